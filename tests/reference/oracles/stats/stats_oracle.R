# Reference values for kypho.stats, computed by base R (stats package only).
# Run by run.sh; the printed output (stats_oracle.out) is committed and read by
# tests/reference/stats/. Lines "data <name> = v1 v2 ..." give the inputs and
# lines "value <case> <field> = number" the results at 15 significant digits;
# R's own printed output of each call is kept above them for human readers.
options(digits = 15)
put <- function(case, field, v) cat(sprintf("value %s %s = %.15g\n", case, field, v))
dat <- function(name, v) cat("data", name, "=", format(v, digits = 15), "\n")

## --- Student's sleep data (R datasets::sleep; Cushny & Peebles 1905) ---
g1 <- sleep$extra[sleep$group == 1]
g2 <- sleep$extra[sleep$group == 2]
dat("sleep1", g1); dat("sleep2", g2)
tt <- function(case, r) {
  print(r)
  put(case, "statistic", r$statistic); put(case, "dof", r$parameter)
  put(case, "p_value", r$p.value); put(case, "ci_low", r$conf.int[1])
  put(case, "ci_high", r$conf.int[2])
}
tt("sleep_student", t.test(g1, g2, var.equal = TRUE))
tt("sleep_welch", t.test(g1, g2))
tt("sleep_welch_less", t.test(g1, g2, alternative = "less"))
tt("sleep_student_greater90", t.test(g1, g2, var.equal = TRUE, alternative = "greater", conf.level = 0.9))
tt("sleep_paired", t.test(g2, g1, paired = TRUE))

## --- Unequal variances, unequal sizes (also run through PSPP T-TEST) ---
x <- c(1.83, 0.50, 1.62, 2.48, 1.68, 1.88, 1.55, 3.06, 1.30)
y <- c(0.878, 0.647, 0.598, 2.05, 1.06, 1.29, 1.06, 3.14, 1.29, 5.0, 6.0)
dat("x", x); dat("y", y)
tt("xy_student", t.test(x, y, var.equal = TRUE))
tt("xy_welch", t.test(x, y))
tt("xy_welch_greater", t.test(x, y, alternative = "greater"))

## --- var.test (F test of variances) ---
vt <- function(case, r) {
  print(r)
  put(case, "statistic", r$statistic); put(case, "dof", r$parameter[1])
  put(case, "dof_denominator", r$parameter[2]); put(case, "p_value", r$p.value)
  put(case, "ci_low", r$conf.int[1]); put(case, "ci_high", r$conf.int[2])
}
vt("xy_F", var.test(x, y))
vt("sleep_F", var.test(g1, g2))
vt("xy_F_less", var.test(x, y, alternative = "less"))

## --- Levene (mean-centred) and Brown-Forsythe (median-centred): one-way ANOVA
## of absolute deviations, by lm()/anova(); base R has no leveneTest.
lev <- function(case, a, b, centre) {
  v <- c(a, b); g <- factor(rep(1:2, c(length(a), length(b))))
  z <- abs(v - ave(v, g, FUN = centre))
  tab <- anova(lm(z ~ g)); print(tab)
  put(case, "statistic", tab$`F value`[1]); put(case, "dof_denominator", tab$Df[2])
  put(case, "p_value", tab$`Pr(>F)`[1])
}
lev("xy_levene", x, y, mean); lev("xy_bf", x, y, median)
lev("sleep_levene", g1, g2, mean); lev("sleep_bf", g1, g2, median)

## --- Cochran-Cox t' by its textbook definition, with P found by uniroot() ---
cc <- function(case, a, b) {
  w1 <- var(a) / length(a); w2 <- var(b) / length(b)
  t <- (mean(a) - mean(b)) / sqrt(w1 + w2)
  crit <- function(alpha) (w1 * qt(alpha, length(a) - 1, lower.tail = FALSE) +
                           w2 * qt(alpha, length(b) - 1, lower.tail = FALSE)) / (w1 + w2)
  upper <- uniroot(function(l) crit(exp(l)) - abs(t), c(log(1e-300), log(0.5)), tol = 1e-14)$root
  c975 <- crit(0.025)
  cat(case, ": t' =", t, " crit(0.025) =", c975, " P =", 2 * exp(upper), "\n")
  put(case, "statistic", t); put(case, "p_value", 2 * exp(upper)); put(case, "critical_value", c975)
  put(case, "ci_low", mean(a) - mean(b) - c975 * sqrt(w1 + w2))
  put(case, "ci_high", mean(a) - mean(b) + c975 * sqrt(w1 + w2))
}
cc("xy_cochran_cox", x, y)
big1 <- c(12.1, 14.3, 11.8, 15.2, 13.9, 12.7, 16.1, 13.3)
big2 <- c(8.2, 19.5, 3.1, 25.4, 11.0, 17.7, 5.9, 22.8, 14.4, 9.6, 28.3, 1.5, 20.2)
dat("big1", big1); dat("big2", big2)
cc("big_cochran_cox", big1, big2)
tt("big_welch", t.test(big1, big2))
shifted <- big2 + 9
dat("shifted", shifted)
cc("shift_cochran_cox", big1, shifted)

## --- Hedges' g (pooled SD, exact J) with the Borenstein et al. (2009) variance ---
hg <- function(case, a, b) {
  n1 <- length(a); n2 <- length(b); m <- n1 + n2 - 2
  sp <- sqrt(((n1 - 1) * var(a) + (n2 - 1) * var(b)) / m)
  d <- (mean(a) - mean(b)) / sp
  J <- exp(lgamma(m / 2) - 0.5 * log(m / 2) - lgamma((m - 1) / 2))
  g <- J * d; se <- J * sqrt((n1 + n2) / (n1 * n2) + d^2 / (2 * (n1 + n2)))
  put(case, "g", g); put(case, "g_low", g - qnorm(0.975) * se); put(case, "g_high", g + qnorm(0.975) * se)
}
hg("sleep_hedges", g1, g2); hg("xy_hedges", x, y)

## --- Paired t with a missing side: R drops incomplete pairs ---
pre <- c(47.1, 52.3, NA, 44.8, 50.2, 46.6, 49.9, 41.7, 48.8, 45.5)
post <- c(84.2, 88.1, 86.5, 80.9, NA, 83.3, 87.7, 79.4, 85.0, 82.6)
dat("pre", pre); dat("post", post)
tt("prepost_paired", t.test(post, pre, paired = TRUE))

## --- wilcox.test ---
wx <- c(0.80, 0.83, 1.89, 1.04, 1.45, 1.38, 1.91, 1.64, 0.73, 1.46)  # ?wilcox.test example
wy <- c(1.15, 0.88, 0.90, 0.74, 1.21)
dat("wx", wx); dat("wy", wy)
wt <- function(case, r) { print(r); put(case, "statistic", r$statistic); put(case, "p_value", r$p.value) }
wt("w_exact_greater", wilcox.test(wx, wy, alternative = "greater"))
wt("w_exact_two", wilcox.test(wx, wy))
wt("w_asym_nocc", wilcox.test(wx, wy, exact = FALSE, correct = FALSE))
wt("w_asym_cc", wilcox.test(wx, wy, exact = FALSE, correct = TRUE))
gr1 <- rep(1:4, c(4, 7, 10, 34)); gr2 <- rep(1:4, c(11, 18, 14, 12))  # Table 7 grade counts
wt("grades_nocc", wilcox.test(gr1, gr2, exact = FALSE, correct = FALSE))
wt("grades_cc", wilcox.test(gr1, gr2, exact = FALSE, correct = TRUE))
wt("grades_cc_less", wilcox.test(gr1, gr2, exact = FALSE, correct = TRUE, alternative = "less"))
wt("xy_mw", wilcox.test(x, y, exact = FALSE, correct = FALSE))
# Rank-biserial correlation (Kerby 2014) from R's W = U of the first group.
rb <- function(case, a, b) {
  w <- wilcox.test(a, b, exact = FALSE)$statistic
  put(case, "effect_size", 2 * w / (length(a) * length(b)) - 1)
}
rb("xy_rb", x, y); rb("grades_rb", gr1, gr2)
lx <- c(3.1, 5.7, 2.2, 8.9, 6.4, 4.0, 7.3, 9.8, 1.5, 6.9, 10.4, 11.2, 0.7, 12.6, 13.3,
        14.1, 15.9, 2.9, 16.4, 17.7, 18.2, 19.6, 20.1, 21.5, 22.8, 23.3, 24.9, 25.6, 26.2, 27.7)
ly <- c(4.4, 8.1, 12.2, 16.8, 20.9, 24.1, 28.3, 29.5, 30.2, 31.8, 32.4, 33.9, 34.7, 35.1,
        36.6, 37.2, 38.8, 39.3, 40.0, 41.4)
dat("lx", lx); dat("ly", ly)
wt("long_exact", wilcox.test(lx, ly))

## --- chisq.test / fisher.test / prop.test ---
ct <- function(case, r) {
  print(r); put(case, "statistic", r$statistic); put(case, "dof", r$parameter)
  put(case, "p_value", r$p.value)
}
M <- rbind(c(762, 327, 468), c(484, 239, 477))  # ?chisq.test (Agresti 2007, p. 39)
ct("agresti_party", chisq.test(M))
leak <- rbind(c(2, 53), c(9, 46))  # Table 7 leakage: rows groups, columns leakage/none
ct("leak_pearson", chisq.test(leak, correct = FALSE))
ct("leak_yates", chisq.test(leak, correct = TRUE))
ft <- function(case, r) { print(r); put(case, "p_value", r$p.value) }
ft("leak_fisher", fisher.test(leak))
ft("leak_fisher_less", fisher.test(leak, alternative = "less"))
tea <- matrix(c(3, 1, 1, 3), nrow = 2)  # ?fisher.test TeaTasting
ft("tea_greater", fisher.test(tea, alternative = "greater"))
ft("tea_two", fisher.test(tea))
conv <- matrix(c(2, 10, 15, 3), nrow = 2)  # ?fisher.test Convictions
ft("conv_less", fisher.test(conv, alternative = "less"))
ft("conv_two", fisher.test(conv))
job <- matrix(c(1, 2, 1, 0, 3, 3, 6, 1, 10, 10, 14, 9, 6, 7, 12, 11), 4, 4)  # ?fisher.test Job
ft("job_exact", fisher.test(job))
set.seed(1); ft("job_sim", fisher.test(job, simulate.p.value = TRUE, B = 1e5))
small <- rbind(c(1, 2, 0), c(3, 0, 4))
ft("small_exact", fisher.test(small))
ft("small_exact_t", fisher.test(t(small)))
wide <- rbind(c(3, 5, 2, 8, 1), c(6, 1, 4, 2, 7))
ft("wide_exact", fisher.test(wide))
grades <- rbind(c(4, 7, 10, 34), c(11, 18, 14, 12))
ct("grades_chisq", chisq.test(grades))
ft("grades_fisher", fisher.test(grades))
mid <- rbind(c(12, 8), c(5, 15))
ct("mid_yates", chisq.test(mid)); ct("mid_pearson", chisq.test(mid, correct = FALSE))
pt <- prop.test(c(2, 9), c(55, 55), correct = FALSE); print(pt)
put("leak_rd", "ci_low", pt$conf.int[1]); put("leak_rd", "ci_high", pt$conf.int[2])
pt <- prop.test(c(12, 5), c(20, 20), correct = FALSE); print(pt)
put("mid_rd", "ci_low", pt$conf.int[1]); put("mid_rd", "ci_high", pt$conf.int[2])
ratio <- function(case, t) {
  a <- t[1, 1]; b <- t[1, 2]; c <- t[2, 1]; d <- t[2, 2]; z <- qnorm(0.975)
  or <- a * d / (b * c); se <- sqrt(1 / a + 1 / b + 1 / c + 1 / d)
  rr <- (a / (a + b)) / (c / (c + d)); sr <- sqrt(1 / a - 1 / (a + b) + 1 / c - 1 / (c + d))
  put(case, "odds_ratio", or); put(case, "or_ci_low", or * exp(-z * se)); put(case, "or_ci_high", or * exp(z * se))
  put(case, "relative_risk", rr); put(case, "rr_ci_low", rr * exp(-z * sr)); put(case, "rr_ci_high", rr * exp(z * sr))
}
ratio("leak_ratio", leak); ratio("mid_ratio", mid)

## --- p.adjust ---
pv <- c(0.01, 0.04, 0.03, 0.005, 0.2, 0.04, 0.5, 0.0001)
dat("pv", pv)
for (m in c("holm", "BH")) { a <- p.adjust(pv, m); print(a); for (i in seq_along(a)) put(paste0("padj_", m), i, a[i]) }

## --- quantiles: SPSS's (n+1)p rule is type 6; R's default is type 7 ---
q <- c(7, 1, 3, 9, 4, 4, 12, 8, 2)
dat("q", q)
for (ty in c(6, 7)) { r <- quantile(q, c(0.25, 0.5, 0.75), type = ty); print(r)
  put(paste0("quant_type", ty), "q1", r[1]); put(paste0("quant_type", ty), "median", r[2]); put(paste0("quant_type", ty), "q3", r[3]) }

## --- SMD (Austin 2009; Yang & Dalton 2012) by formula ---
put("smd_sleep", "smd", (mean(g1) - mean(g2)) / sqrt((var(g1) + var(g2)) / 2))
p1 <- 12 / 55; p2 <- 14 / 55
put("smd_gender", "smd", (p1 - p2) / sqrt((p1 * (1 - p1) + p2 * (1 - p2)) / 2))
pt <- c(4, 7, 10, 34) / 55; pc <- c(11, 18, 14, 12) / 55
tv <- pt[-1]; cv <- pc[-1]
S <- (diag(tv) - outer(tv, tv) + diag(cv) - outer(cv, cv)) / 2
put("smd_grades", "smd", sqrt(drop(t(tv - cv) %*% solve(S) %*% (tv - cv))))
