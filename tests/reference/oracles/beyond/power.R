# Oracle for kypho.beyond.power: R's power.prop.test and power.t.test (package stats).
# Each line: case name, then the solved-for value printed to 10 significant digits.
options(digits = 10)
cat("#", R.version.string, "\n")
row <- function(name, value) cat(sprintf("%s %.10g\n", name, value))

# Two proportions: the paper's leakage rates and two textbook-like cases.
row("prop_n_leak_p80", power.prop.test(p1 = 0.164, p2 = 0.036, power = 0.80)$n)
row("prop_n_leak_p90", power.prop.test(p1 = 0.164, p2 = 0.036, power = 0.90)$n)
row("prop_power_leak_n55", power.prop.test(p1 = 0.164, p2 = 0.036, n = 55)$power)
row("prop_power_leak_n55_strict", power.prop.test(p1 = 0.164, p2 = 0.036, n = 55, strict = TRUE)$power)
row("prop_power_50_75_n50", power.prop.test(n = 50, p1 = 0.50, p2 = 0.75)$power)
row("prop_n_50_75_p90", power.prop.test(p1 = 0.50, p2 = 0.75, power = 0.90)$n)
row("prop_power_leak_n55_one", power.prop.test(p1 = 0.164, p2 = 0.036, n = 55, alternative = "one.sided")$power)
row("prop_power_near_null_strict", power.prop.test(p1 = 0.30, p2 = 0.32, n = 40, strict = TRUE)$power)
row("prop_power_near_null", power.prop.test(p1 = 0.30, p2 = 0.32, n = 40)$power)

# Two means (equal variances, noncentral t).
row("t_power_n20_d1", power.t.test(n = 20, delta = 1)$power)
row("t_power_n20_d1_strict", power.t.test(n = 20, delta = 1, strict = TRUE)$power)
row("t_n_d1_p90", power.t.test(power = .90, delta = 1)$n)
row("t_n_d1_p90_one", power.t.test(power = .90, delta = 1, alternative = "one.sided")$n)
row("t_power_vas_n55", power.t.test(n = 55, delta = 0.10, sd = 0.5)$power)
row("t_n_height_p80", power.t.test(delta = 2.2, sd = 3.4, power = 0.80)$n)
row("t_power_small_strict", power.t.test(n = 5, delta = 0.3, sd = 1, strict = TRUE)$power)
row("t_power_alpha01", power.t.test(n = 30, delta = 0.8, sd = 1, sig.level = 0.01)$power)
