# Reference values for kypho.stats.reliability, computed by R's psych package
# (psych::ICC, psych::cohen.kappa) and vcd (vcd::Kappa: weighted kappa's
# asymptotic standard error and confidence interval; psych 2.2.9 gives a zero
# variance for the quadratic-weighted kappa below, so it is not used for that). Run by run.sh; the printed output
# (reliability_oracle.out) is committed and read by tests/reference/stats/.
# Lines "data <name> = v1 v2 ..." give inputs (a matrix row by row, with
# "shape <name> = rows cols"), lines "value <case> <field> = number" results at
# 15 significant digits; psych's own printed output is kept above them.
suppressPackageStartupMessages({library(psych); library(vcd)})
options(digits = 15)
cat("R", R.version.string, "psych", format(packageVersion("psych")), "vcd", format(packageVersion("vcd")), "\n")
put <- function(case, field, v) cat(sprintf("value %s %s = %.15g\n", case, field, v))
dat <- function(name, m) {
  m <- as.matrix(m)
  cat("shape", name, "=", nrow(m), ncol(m), "\n")
  cat("data", name, "=", format(as.vector(t(m)), digits = 15), "\n")
}
icc_case <- function(case, m, alpha = 0.05) {
  dat(case, m)
  r <- ICC(m, alpha = alpha, lmer = FALSE)
  print(r)
  cat("\n")
  put(case, "MS_subjects", r$stats[3, 1])
  put(case, "MS_raters", r$stats[3, 2])
  put(case, "MS_error", r$stats[3, 3])
  put(case, "MS_within", r$MSW)
  forms <- c("ICC1", "ICC2", "ICC3", "ICC1k", "ICC2k", "ICC3k")
  for (i in seq_along(forms)) {
    f <- forms[i]
    put(case, paste0(f, "_icc"), r$results$ICC[i])
    put(case, paste0(f, "_F"), r$results$F[i])
    put(case, paste0(f, "_df1"), r$results$df1[i])
    put(case, paste0(f, "_df2"), r$results$df2[i])
    put(case, paste0(f, "_p"), r$results$p[i])
    put(case, paste0(f, "_lower"), r$results$`lower bound`[i])
    put(case, paste0(f, "_upper"), r$results$`upper bound`[i])
  }
}

## --- Shrout & Fleiss (1979), Table 2: 6 targets rated by 4 judges ---
sf <- matrix(c(9, 2, 5, 8,
               6, 1, 3, 2,
               8, 4, 6, 8,
               7, 1, 2, 6,
               10, 5, 6, 9,
               6, 2, 4, 7), ncol = 4, byrow = TRUE)
icc_case("sf", sf)
icc_case("sf90", sf, alpha = 0.10)

## --- a larger design: 25 vertebral heights (mm) read by 3 raters ---
set.seed(20261201)
truth <- rnorm(25, 22, 4)
heights <- round(cbind(truth + rnorm(25, 0, 0.8),
                       truth + 0.6 + rnorm(25, 0, 0.8),
                       truth - 0.3 + rnorm(25, 0, 1.1)), 1)
icc_case("heights", heights)

## --- two reads (intra-rater): 12 wedge angles, degrees ---
wedge <- cbind(c(12.1, 15.4, 9.8, 20.2, 17.5, 11.0, 8.4, 14.9, 22.3, 13.6, 16.8, 10.5),
               c(12.9, 14.8, 10.6, 19.1, 18.2, 11.9, 8.0, 15.7, 21.4, 14.4, 16.1, 11.2))
icc_case("wedge", wedge)

## --- weighted kappa: cement grade I-IV by two raters (psych::cohen.kappa) ---
r1 <- c(1, 2, 2, 3, 4, 1, 3, 2, 4, 4, 3, 2, 1, 1, 2, 3, 4, 2, 3, 3, 1, 2, 4, 3, 2)
r2 <- c(1, 2, 3, 3, 4, 2, 3, 2, 4, 3, 3, 2, 1, 2, 2, 4, 4, 2, 2, 3, 1, 1, 4, 3, 2)
dat("kappa_r1", t(r1)); dat("kappa_r2", t(r2))
lev <- 1:4
idx <- outer(lev, lev, "-")
kappa_case <- function(case, w) {
  # psych's w are agreement weights (1 on the diagonal)
  k <- cohen.kappa(cbind(r1, r2), w = w, levels = lev)
  print(k)
  cat("\n")
  put(case, "unweighted_kappa", k$kappa)
  put(case, "unweighted_var", k$var.kappa)
  put(case, "weighted_kappa", k$weighted.kappa)
  put(case, "weighted_var", k$var.weighted)
  put(case, "weighted_lower", k$confid[2, 1])
  put(case, "weighted_upper", k$confid[2, 3])
  put(case, "unweighted_lower", k$confid[1, 1])
  put(case, "unweighted_upper", k$confid[1, 3])
}
kappa_case("kappa_linear", 1 - abs(idx) / 3)
kappa_case("kappa_quadratic", 1 - idx^2 / 9)
tab <- table(factor(r1, lev), factor(r2, lev))
for (w in c("Equal-Spacing", "Fleiss-Cohen")) {
  case <- if (w == "Equal-Spacing") "vcd_linear" else "vcd_quadratic"
  k <- Kappa(tab, weights = w)
  print(k); ci <- confint(k); print(ci)
  put(case, "unweighted_kappa", k$Unweighted[1]); put(case, "unweighted_ase", k$Unweighted[2])
  put(case, "weighted_kappa", k$Weighted[1]); put(case, "weighted_ase", k$Weighted[2])
  put(case, "weighted_lower", ci[2, 1]); put(case, "weighted_upper", ci[2, 2])
}

## --- the docstring example of kypho.stats.weighted_kappa (8 films) ---
a <- c(1, 2, 2, 3, 4, 1, 3, 2); b <- c(1, 2, 3, 3, 4, 2, 3, 2)
k <- cohen.kappa(cbind(a, b), w = 1 - idx^2 / 9, levels = lev)
print(k)
put("kappa_doc", "weighted_kappa", k$weighted.kappa)
