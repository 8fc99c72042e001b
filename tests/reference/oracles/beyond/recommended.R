# Oracles from R's recommended packages (shipped with every R installation):
# nlme::lme for the random-intercept mixed model on UNBALANCED data, and
# MASS::polr for the (weighted) proportional-odds model.
options(digits = 12)
cat("#", R.version.string, "; nlme", format(packageVersion("nlme")), "; MASS", format(packageVersion("MASS")), "\n")
suppressMessages({library(nlme); library(MASS)})
row <- function(name, value) cat(sprintf("%s %.12g\n", name, value))

# 1. Mixed model on CO2 with rows removed (unbalanced): every 5th row is dropped,
#    so plants have 5 or 6 of their 7 measurements. Written to co2_unbalanced.csv.
d <- as.data.frame(CO2)
d$Plant <- as.character(d$Plant)
d$Treatment <- relevel(factor(as.character(d$Treatment)), ref = "nonchilled")
d$conc <- factor(d$conc)
u <- d[seq_len(nrow(d)) %% 5 != 0, ]
write.csv(u[, c("Plant", "Treatment", "conc", "uptake")], "co2_unbalanced.csv", row.names = FALSE)
fit <- lme(uptake ~ Treatment * conc, random = ~ 1 | Plant, data = u, method = "REML")
vc <- as.numeric(VarCorr(fit)[, "Variance"])
row("lme_sigma2_plant", vc[1])
row("lme_sigma2_residual", vc[2])
fe <- fixef(fit)
se <- sqrt(diag(vcov(fit)))
row("lme_intercept", fe[["(Intercept)"]])
row("lme_intercept_se", se[["(Intercept)"]])
row("lme_group", fe[["Treatmentchilled"]])
row("lme_group_se", se[["Treatmentchilled"]])
row("lme_group_x_1000", fe[["Treatmentchilled:conc1000"]])
row("lme_group_x_1000_se", se[["Treatmentchilled:conc1000"]])
row("lme_time_1000", fe[["conc1000"]])
row("lme_time_1000_se", se[["conc1000"]])

# 2. Proportional-odds fit to the paper's Table 7 grade counts (group 1 =
#    experimental, group 2 = control), weights = counts. polr's model is
#    logit P(Y <= k) = zeta_k - eta, so its coefficient is the log odds ratio of a
#    higher grade for control vs experimental.
g <- data.frame(grade = factor(rep(c("I", "II", "III", "IV"), 2), ordered = TRUE),
                control = rep(c(0, 1), each = 4),
                n = c(4, 7, 10, 34, 11, 18, 14, 12))
po <- polr(grade ~ control, data = g, weights = n, Hess = TRUE)
row("polr_table7_logor", coef(po)[["control"]])

# 3. Weighted proportional-odds regression on individual data (weights not
#    integers, as IPW weights are): point estimates only (polr's SEs treat the
#    weights as frequencies; kypho reports sandwich SEs).
set.seed(0)
m <- 120
x <- rep(c(0, 1), each = m / 2)
y <- factor(c(rep(1:3, length.out = m / 2), rep(c(2, 3, 3, 1), length.out = m / 2)), ordered = TRUE)
w <- 0.5 + (seq_len(m) %% 7) / 4
write.csv(data.frame(y = as.integer(y) - 1, x = x, w = w), "polr_weighted.csv", row.names = FALSE)
# polr starts from a binomial glm that warns about non-integer weights; harmless here.
pw <- suppressWarnings(polr(y ~ x, weights = w, Hess = TRUE))
row("polr_weighted_beta", coef(pw)[["x"]])
row("polr_weighted_zeta1", pw$zeta[[1]])
row("polr_weighted_zeta2", pw$zeta[[2]])
