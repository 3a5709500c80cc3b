# bench/: pools the answers/s ratios of several scale_compare.sh runs, for a verdict that one
# run's five repetitions cannot give on this noisy machine. Reads scale-samples.tsv files; in each,
# the k-th ctrdns and the k-th echo responder sample of a size and query type were measured back to
# back (repetition k), so their quotient is one ratio. Prints, per size and type, the median of all
# files' ratios, their range, how many fell under 0.9 (the issue's target), and a 95 % confidence
# interval for the median that assumes nothing about the noise's shape: between the k-th smallest
# and the k-th largest ratio, k the largest with P(Binomial(n, 1/2) < k) <= 2.5 %. A cell whose
# interval lies at or above 0.9 meets the target however the next run falls (with 95 % confidence).
#
# Usage: awk -f bench/pool_ratios.awk RUN1/scale-samples.tsv RUN2/scale-samples.tsv ...
$3 ~ /^qps_/ && ($2 == "ctrdns" || $2 == "echo") {
    key = FILENAME SUBSEP $1 SUBSEP $3 SUBSEP $2
    samples[key, ++count[key]] = $4
    cells[$1 SUBSEP $3] = 1
    runs[FILENAME] = 1
}
END {
    print "size     type      ratios  median     min     max  under 0.9  median 95% interval"
    for (cell in cells) {
        split(cell, part, SUBSEP)
        n = 0
        for (run in runs) {
            mine = run SUBSEP cell SUBSEP "ctrdns"
            echo = run SUBSEP cell SUBSEP "echo"
            for (k = 1; k <= count[mine] && k <= count[echo]; k++) {
                ratio[++n] = samples[mine, k] / samples[echo, k]
            }
        }
        for (i = 2; i <= n; i++) { # insertion sort: a few dozen values
            value = ratio[i]
            for (j = i - 1; j >= 1 && ratio[j] > value; j--) ratio[j + 1] = ratio[j]
            ratio[j + 1] = value
        }
        under = 0
        for (i = 1; i <= n; i++) if (ratio[i] < 0.9) under++
        median = n % 2 ? ratio[(n + 1) / 2] : (ratio[n / 2] + ratio[n / 2 + 1]) / 2
        k = median_rank(n)
        interval = k > 0 ? sprintf("%7.3f-%.3f", ratio[k], ratio[n + 1 - k]) : "    (too few)"
        type = part[2]; sub(/^qps_/, "", type)
        line[cell] = sprintf("%-8s %-8s %6d %7.3f %7.3f %7.3f %10d  %s", part[1], type, n, median, ratio[1], ratio[n], under, interval)
        delete ratio
    }
    # Sizes in increasing order, types in the order the benchmark asks them.
    split("A AAAA PTR NX", order, " ")
    sizes = ""
    for (cell in cells) { split(cell, part, SUBSEP); if (!(part[1] in seen)) { seen[part[1]] = 1; size_list[++size_count] = part[1] + 0 } }
    for (i = 2; i <= size_count; i++) { value = size_list[i]; for (j = i - 1; j >= 1 && size_list[j] > value; j--) size_list[j + 1] = size_list[j]; size_list[j + 1] = value }
    for (s = 1; s <= size_count; s++) for (t = 1; t <= 4; t++) {
        cell = size_list[s] SUBSEP "qps_" order[t]
        if (cell in line) print line[cell]
    }
}

# The largest k with P(X < k) <= 0.025 for X ~ Binomial(n, 1/2); 0 when n is too small (n < 6).
function median_rank(n,    k, term, below) {
    term = 0.5 ^ n # P(X = 0)
    below = 0
    for (k = 0; below + term <= 0.025; k++) {
        below += term
        term = term * (n - k) / (k + 1)
    }
    return k
}
