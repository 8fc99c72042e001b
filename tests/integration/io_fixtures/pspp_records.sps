* An SPSS data file made by PSPP, not by kypho: the stand-in for a file a
* research office sends. SPSS conventions on purpose: numeric codes with value
* labels (capitalised, not kypho's codes), a user-missing code (age 99, pain 9),
* a DATE11 date, a code without a label (sex 3) and a lower-case level (t11).
DATA LIST LIST /patient_id (A8) group (F1) sex (F1) age (F3) pain (F1) operation_date (DATE11) vas_pre (F5.2) level (A4).
BEGIN DATA
P-001 1 2 71 1 01-MAR-2020 6.5 L1
P-002 2 1 99 0 15-JUN-2021 7.25 T12
P-003 2 2 65 9 02-JAN-2022 . t11
P-004 1 3 80 0 28-FEB-2019 3 L2
END DATA.
VARIABLE LABELS group 'Group' sex 'Gender' age 'Age (yr)'.
VALUE LABELS group 1 'Experimental group' 2 'Control group'
  /sex 1 'Male' 2 'Female'
  /pain 0 'No' 1 'Yes'.
MISSING VALUES age (99) pain (9).
VARIABLE LEVEL group sex pain (NOMINAL) /age vas_pre (SCALE).
SAVE OUTFILE='pspp_records.sav'.
DISPLAY DICTIONARY.
LIST.
