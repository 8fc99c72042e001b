# Reference values for kypho's audit of the paper's Tables 1-7 (base R, stats package).
# Each line printed is "key value"; tests/reference/audit/test_audit_reference_r.py reads
# audit_oracle.out. t tests are computed from the printed summaries by their textbook
# formulas (R's t.test needs raw data); chi-square, Fisher and Mann-Whitney use R's own
# chisq.test, fisher.test and wilcox.test on the printed counts (grades expanded).
out <- function(key, value) cat(key, sprintf("%.12g", value), "\n")

# -- independent t from summaries: name, mean1, sd1, mean2, sd2 (n = 55 + 55)
rows <- list(
  c("t1_age", 69.47, 6.90, 70.38, 7.25),
  c("t2_optime", 32, 4.46, 29, 5.17),
  c("t2_bloodloss", 1.91, 0.84, 1.93, 0.69),
  c("t2_cement", 5.5, 1.21, 5.2, 1.16),
  c("t3_pre", 8.34, 0.27, 8.24, 0.67),
  c("t3_2h", 3.41, 0.34, 3.43, 0.41),
  c("t3_4h", 1.16, 0.59, 1.26, 0.82),
  c("t3_48h", 0.15, 0.09, 0.17, 0.07),
  c("t4_pre", 47.36, 6.16, 46.38, 5.37),
  c("t4_3d", 85.32, 6.17, 84.97, 5.74),
  c("t4_last", 86.43, 6.57, 87.67, 6.07),
  c("t5_pre", 53.56, 6.84, 52.52, 5.62),
  c("t5_3d", 91.74, 3.37, 89.54, 3.44),
  c("t5_last", 89.63, 4.52, 87.75, 5.64),
  c("t6_pre", 24.41, 2.67, 25.53, 2.35),
  c("t6_3d", 3.46, 1.13, 3.73, 1.05),
  c("t6_last", 4.22, 1.07, 4.13, 1.09)
)
n1 <- 55; n2 <- 55
for (r in rows) {
  key <- r[1]; v <- as.numeric(r[2:5])
  m1 <- v[1]; s1 <- v[2]; m2 <- v[3]; s2 <- v[4]
  sp2 <- ((n1 - 1) * s1^2 + (n2 - 1) * s2^2) / (n1 + n2 - 2)
  t_student <- (m1 - m2) / sqrt(sp2 * (1 / n1 + 1 / n2))
  df_student <- n1 + n2 - 2
  out(paste0(key, "_student_t"), t_student)
  out(paste0(key, "_student_p"), 2 * pt(-abs(t_student), df_student))
  w1 <- s1^2 / n1; w2 <- s2^2 / n2
  t_welch <- (m1 - m2) / sqrt(w1 + w2)
  df_welch <- (w1 + w2)^2 / (w1^2 / (n1 - 1) + w2^2 / (n2 - 1))
  out(paste0(key, "_welch_t"), t_welch)
  out(paste0(key, "_welch_df"), df_welch)
  out(paste0(key, "_welch_p"), 2 * pt(-abs(t_welch), df_welch))
  f <- s1^2 / s2^2
  out(paste0(key, "_f"), f)
  out(paste0(key, "_f_p"), min(1, 2 * min(pf(f, n1 - 1, n2 - 1), pf(f, n1 - 1, n2 - 1, lower.tail = FALSE))))
}
# Table 1 "variance analysis": one-way ANOVA of two groups, F = t^2 on (1, 108) df.
t_age <- (69.47 - 70.38) / sqrt((54 * 6.90^2 + 54 * 7.25^2) / 108 * (2 / 55))
out("t1_age_anova_f", t_age^2)
out("t1_age_anova_p", pf(t_age^2, 1, 108, lower.tail = FALSE))

# -- statcheck: P from the printed t on 108 df (Student) and on 54 df (paired)
printed_t <- c(t2_optime = 0.782, t2_bloodloss = 0.693, t2_cement = 0.572, t3_pre = 0.296,
               t3_2h = 0.381, t3_4h = 0.423, t3_48h = 0.392, t4_pre = 0.793, t4_3d = 0.375,
               t4_last = 0.526, t5_pre = 0.783, t5_3d = 0.369, t5_last = 0.471, t6_pre = 0.337,
               t6_3d = 0.246, t6_last = 0.389)
for (k in names(printed_t)) out(paste0(k, "_statcheck_p108"), 2 * pt(-printed_t[[k]], 108))
paired_t <- c(t3_2h_e = 4.075, t3_2h_c = 4.573, t4_3d_e = 4.157, t6_last_e = 4.273)
for (k in names(paired_t)) out(paste0(k, "_paired_p54"), 2 * pt(-paired_t[[k]], 54))

# -- counts: groups in rows (experimental, control), levels in columns
tab <- list(
  t1_gender = matrix(c(12, 14, 43, 41), 2),
  t1_constipation = matrix(c(37, 39, 18, 16), 2),
  t1_thoracic = matrix(c(32, 30, 23, 25), 2),
  t1_lumbar = matrix(c(23, 25, 32, 30), 2),
  t7_leakage = matrix(c(2, 9, 53, 46), 2)
)
for (k in names(tab)) {
  m <- tab[[k]]
  pe <- suppressWarnings(chisq.test(m, correct = FALSE))
  ya <- suppressWarnings(chisq.test(m, correct = TRUE))
  out(paste0(k, "_pearson_x2"), pe$statistic)
  out(paste0(k, "_pearson_p"), pe$p.value)
  out(paste0(k, "_yates_p"), ya$p.value)
  out(paste0(k, "_fisher_p"), fisher.test(m)$p.value)
}
# Identical proportions: Fisher's exact P is 1 (chi-square is undefined with an empty column).
out("t1_pain_fisher_p", fisher.test(matrix(c(55, 55, 0, 0), 2))$p.value)

# -- Mann-Whitney from the grade counts of Table 7 (grades I < II < III < IV)
x <- rep(1:4, c(4, 7, 10, 34))
y <- rep(1:4, c(11, 18, 14, 12))
w0 <- suppressWarnings(wilcox.test(x, y, exact = FALSE, correct = FALSE))
w1 <- suppressWarnings(wilcox.test(x, y, exact = FALSE, correct = TRUE))
out("t7_grade_w", w0$statistic)
out("t7_grade_u", min(w0$statistic, 55 * 55 - w0$statistic))
out("t7_grade_p", w0$p.value)
out("t7_grade_p_continuity", w1$p.value)
# Z with the tie correction, by the textbook formula, for the printed U = 392 too.
tt <- table(c(x, y)); N <- 110
sigma <- sqrt(55 * 55 / 12 * ((N + 1) - sum(tt^3 - tt) / (N * (N - 1))))
out("t7_grade_sigma", sigma)
out("t7_grade_z", (min(w0$statistic, 55 * 55 - w0$statistic) - 55 * 55 / 2) / sigma)
out("t7_grade_printed_u_p", 2 * pnorm(-abs((392 - 55 * 55 / 2) / sigma)))
