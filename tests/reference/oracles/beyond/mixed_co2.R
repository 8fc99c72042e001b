# Oracle for kypho.beyond.trajectories: a random-intercept model on a balanced
# split-plot design, by the classical ANOVA (method-of-moments) estimator.
#
# Data: R's datasets::CO2 (Potvin, Lechowicz & Tardif 1990, Ecology 71:1389-1400):
# 12 plants, each measured at the same 7 CO2 concentrations; Treatment
# (nonchilled / chilled, 6 plants each) varies between plants. The data are
# written to co2.csv so the Python test needs no R.
#
# For a balanced design the REML estimates of the random-intercept model
#   uptake ~ Treatment * factor(conc) + (1 | Plant)
# equal the ANOVA estimates (when the plant component is positive):
#   sigma_e^2 = MS(within-plant residual),
#   sigma_u^2 = (MS(between-plant residual) - sigma_e^2) / 7,
# and the fixed effects reproduce the cell means (Searle, Casella & McCulloch
# 1992, Variance Components, sections 4.7 and 6.8).
options(digits = 12)
cat("#", R.version.string, "\n")
d <- as.data.frame(CO2)
d$Plant <- as.character(d$Plant)
d$Treatment <- as.character(d$Treatment)
write.csv(d[, c("Plant", "Treatment", "conc", "uptake")], "co2.csv", row.names = FALSE)

fit <- aov(uptake ~ Treatment * factor(conc) + Error(Plant), data = d)
print(summary(fit))
s <- summary(fit)
ms_between <- s[["Error: Plant"]][[1]]["Residuals", "Mean Sq"]
ms_within <- s[["Error: Within"]][[1]]["Residuals", "Mean Sq"]
s2e <- ms_within
s2u <- (ms_between - ms_within) / 7
row <- function(name, value) cat(sprintf("%s %.12g\n", name, value))
row("sigma2_residual", s2e)
row("sigma2_plant", s2u)
# Cell means and the treatment difference (chilled - nonchilled) at each concentration,
# with its standard error 2 (sigma_u^2 + sigma_e^2) / 6 under the model.
m <- tapply(d$uptake, list(d$Treatment, d$conc), mean)
for (conc in colnames(m)) {
  row(paste0("mean_nonchilled_", conc), m["nonchilled", conc])
  row(paste0("mean_chilled_", conc), m["chilled", conc])
  row(paste0("diff_", conc), m["chilled", conc] - m["nonchilled", conc])
}
row("se_diff", sqrt(2 * (s2u + s2e) / 6))
# Interaction test of the split-plot ANOVA (F, within-plant stratum).
within <- s[["Error: Within"]][[1]]
row("F_interaction", within["Treatment:factor(conc)", "F value"])
