# Oracle for kypho.beyond.montecarlo: the EXACT power of the analysis's tests, by
# enumerating every possible study outcome and summing the probabilities of those
# in which R's own test rejects at alpha = 0.05 (base R, package stats).
#
# 1. Two proportions, the paper's 2x2 "auto" rule: N >= 40 and every expected
#    count >= 5 -> chisq.test(correct = FALSE); N >= 40 and some expected count in
#    [1, 5) -> chisq.test(correct = TRUE); N < 40 or an expected count < 1 ->
#    fisher.test. A table with an empty column cannot reject.
# 2. Grades, Mann-Whitney: wilcox.test(exact = FALSE, correct = FALSE), the
#    tie-corrected normal approximation (SPSS's Asymp. Sig.). A study whose
#    patients all share one grade cannot reject.
options(digits = 12, warn = -1)
cat("#", R.version.string, "\n")
row <- function(name, value) cat(sprintf("%s %.12g\n", name, value))

auto_p <- function(a, n1, c, n2) {
  tab <- matrix(c(a, n1 - a, c, n2 - c), 2, byrow = TRUE)
  if (any(colSums(tab) == 0)) return(1)
  e <- outer(rowSums(tab), colSums(tab)) / sum(tab)
  if (sum(tab) < 40 || min(e) < 1) return(fisher.test(tab)$p.value)
  chisq.test(tab, correct = min(e) < 5)$p.value
}
exact_prop <- function(p1, p2, n1, n2) {
  power <- 0
  for (a in 0:n1) for (c in 0:n2) {
    if (auto_p(a, n1, c, n2) < 0.05) power <- power + dbinom(a, n1, p1) * dbinom(c, n2, p2)
  }
  power
}
row("prop_leak_n55", exact_prop(0.036, 0.164, 55, 55))
row("prop_small_n15", exact_prop(0.2, 0.6, 15, 15))
row("prop_mixed_n30", exact_prop(0.1, 0.35, 30, 30))

compositions <- function(n, k) {
  if (k == 1) return(matrix(n, 1, 1))
  out <- NULL
  for (first in 0:n) out <- rbind(out, cbind(first, compositions(n - first, k - 1)))
  unname(out)
}
exact_mw <- function(p1, p2, n) {
  comp <- compositions(n, length(p1))
  prob1 <- apply(comp, 1, dmultinom, prob = p1)
  prob2 <- apply(comp, 1, dmultinom, prob = p2)
  grades <- seq_along(p1)
  power <- 0
  for (i in seq_len(nrow(comp))) {
    x <- rep(grades, comp[i, ])
    for (j in seq_len(nrow(comp))) {
      y <- rep(grades, comp[j, ])
      p <- suppressWarnings(wilcox.test(x, y, exact = FALSE, correct = FALSE)$p.value)
      if (!is.na(p) && p < 0.05) power <- power + prob1[i] * prob2[j]
    }
  }
  power
}
table7_exp <- c(4, 7, 10, 34) / 55
table7_ctl <- c(11, 18, 14, 12) / 55
row("mw_table7_n6", exact_mw(table7_exp, table7_ctl, 6))
row("mw_table7_n8", exact_mw(table7_exp, table7_ctl, 8))
