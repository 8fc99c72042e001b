* Reference output of GNU PSPP (an SPSS work-alike) for kypho.stats.
* Run by run.sh; stats_pspp.csv is committed and read by tests/reference/stats/.
* PSPP prints 2-3 decimals, so tests compare to half a unit of the last digit.

* Sleep data (R datasets::sleep): T-TEST prints Levene's test and both t rows.
DATA LIST LIST /g (F1.0) v (F8.3).
BEGIN DATA
1 0.7
1 -1.6
1 -0.2
1 -1.2
1 -0.1
1 3.4
1 3.7
1 0.8
1 0.0
1 2.0
2 1.9
2 0.8
2 1.1
2 0.1
2 -0.1
2 4.4
2 5.5
2 1.6
2 4.6
2 3.4
END DATA.
T-TEST /GROUPS = g(1,2) /VARIABLES = v.

* Unequal variances and sizes (same data as x, y in stats_oracle.R).
DATA LIST LIST /g (F1.0) v (F8.3).
BEGIN DATA
1 1.83
1 0.50
1 1.62
1 2.48
1 1.68
1 1.88
1 1.55
1 3.06
1 1.30
2 0.878
2 0.647
2 0.598
2 2.05
2 1.06
2 1.29
2 1.06
2 3.14
2 1.29
2 5.0
2 6.0
END DATA.
T-TEST /GROUPS = g(1,2) /VARIABLES = v.
NPAR TESTS /M-W = v BY g (1,2).

* Paired t: SPSS subtracts the second variable of the pair from the first.
DATA LIST LIST /pre (F8.3) post (F8.3).
BEGIN DATA
47.1 84.2
52.3 88.1
44.8 80.9
46.6 83.3
49.9 87.7
41.7 79.4
48.8 85.0
45.5 82.6
END DATA.
T-TEST /PAIRS = pre WITH post (PAIRED).

* Cement distribution grade counts of the paper's Table 7, weighted.
DATA LIST LIST /g (F1.0) grade (F1.0) w (F3.0).
BEGIN DATA
1 1 4
1 2 7
1 3 10
1 4 34
2 1 11
2 2 18
2 3 14
2 4 12
END DATA.
WEIGHT BY w.
CROSSTABS /TABLES = g BY grade /STATISTICS = CHISQ.

* PSPP's NPAR TESTS ignores case weights in M-W, so the grades are listed one
* patient per line (the counts of Table 7: 4 7 10 34 and 11 18 14 12).
DATA LIST LIST /g (F1.0) grade (F1.0).
BEGIN DATA
1 1
1 1
1 1
1 1
1 2
1 2
1 2
1 2
1 2
1 2
1 2
1 3
1 3
1 3
1 3
1 3
1 3
1 3
1 3
1 3
1 3
1 4
1 4
1 4
1 4
1 4
1 4
1 4
1 4
1 4
1 4
1 4
1 4
1 4
1 4
1 4
1 4
1 4
1 4
1 4
1 4
1 4
1 4
1 4
1 4
1 4
1 4
1 4
1 4
1 4
1 4
1 4
1 4
1 4
1 4
2 1
2 1
2 1
2 1
2 1
2 1
2 1
2 1
2 1
2 1
2 1
2 2
2 2
2 2
2 2
2 2
2 2
2 2
2 2
2 2
2 2
2 2
2 2
2 2
2 2
2 2
2 2
2 2
2 2
2 3
2 3
2 3
2 3
2 3
2 3
2 3
2 3
2 3
2 3
2 3
2 3
2 3
2 3
2 4
2 4
2 4
2 4
2 4
2 4
2 4
2 4
2 4
2 4
2 4
2 4
END DATA.
NPAR TESTS /M-W = grade BY g (1,2).

* Small samples without ties (?wilcox.test example data): exact P as well.
DATA LIST LIST /g (F1.0) v (F8.3).
BEGIN DATA
1 0.80
1 0.83
1 1.89
1 1.04
1 1.45
1 1.38
1 1.91
1 1.64
1 0.73
1 1.46
2 1.15
2 0.88
2 0.90
2 0.74
2 1.21
END DATA.
NPAR TESTS /M-W = v BY g (1,2).

* 2x2 leakage table of Table 7 (rows: groups; columns: leakage yes / no).
DATA LIST LIST /g (F1.0) leak (F1.0) w (F3.0).
BEGIN DATA
1 1 2
1 2 53
2 1 9
2 2 46
END DATA.
WEIGHT BY w.
CROSSTABS /TABLES = g BY leak /STATISTICS = CHISQ.

* A 2x2 table with all expected counts >= 5.
DATA LIST LIST /g (F1.0) y (F1.0) w (F3.0).
BEGIN DATA
1 1 12
1 2 8
2 1 5
2 2 15
END DATA.
WEIGHT BY w.
CROSSTABS /TABLES = g BY y /STATISTICS = CHISQ.
