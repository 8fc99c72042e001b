* PSPP reads the .sav that kypho wrote and prints what it finds.
GET FILE='kypho_records.sav'.
DISPLAY DICTIONARY.
LIST.
