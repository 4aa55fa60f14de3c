# Charts of a benchmark run, from the plot_*.dat files summarize.py writes.
# summarize.py writes the files of the workloads measured and only those: a
# chart (or a panel) whose data file is absent is not drawn, so a run of one
# workload gives only that workload's charts, and no chart is ever empty.
# Run in the results directory: gnuplot /path/to/bench/plot.gnuplot
have(f) = int(system(sprintf("test -s '%s' && echo 1 || echo 0", f)))
# The x range of the rank charts: the rank counts measured, whatever they are.
xlo = 1e9; xhi = 0
ranks_of(f) = sprintf("stats '%s' using 1 nooutput; xlo = (STATS_min < xlo) ? STATS_min : xlo; xhi = (STATS_max > xhi) ? STATS_max : xhi", f)
hx = have("plot_bw_extend.dat"); hr = have("plot_bw_read.dat"); he = have("plot_bw_export.dat")
nbw = hx + hr + he
do for [f in "plot_bw_extend.dat plot_bw_read.dat plot_bw_export.dat plot_ratio.dat"] {
  if (have(f)) { eval ranks_of(f) }
}

if (nbw > 0) {
  set terminal pngcairo size 200 + 400 * nbw, 480 font ",10" noenhanced
  set output "bandwidth_vs_ranks.png"
  set grid
  set xlabel "MPI ranks"
  set logscale x 2
  set xrange [xlo / 1.4 : xhi * 1.4]
  set yrange [0:*]
  set multiplot layout 1, nbw title "Bandwidth vs ranks (median of the repetitions, MB = 10^6 bytes)"
  set key inside left top font ",8"
  set ylabel "MB/s"
  if (hx) {
    set title "collective extend, observed (open..close)"
    plot for [i=0:*] "plot_bw_extend.dat" index i using 1:2 with linespoints title columnheader(2)
  }
  if (hr) {
    set title "collective read, observed"
    plot for [i=0:*] "plot_bw_read.dat" index i using 1:2 with linespoints title columnheader(2)
  }
  if (he) {
    set title "parallel export"
    plot for [i=0:*] "plot_bw_export.dat" index i using 1:2 with linespoints title columnheader(2)
  }
  unset multiplot
  set output
  reset
}

if (have("plot_ratio.dat")) {
  set terminal pngcairo size 1100,760 font ",10" noenhanced
  set output "ratio_vs_ranks.png"
  set grid
  set xlabel "MPI ranks"
  set logscale x 2
  set xrange [xlo / 1.4 : xhi * 1.4]
  set title "Library / like-with-like baseline throughput (median); 1 = parity; dashed: targets"
  set ylabel "ratio"
  set key below maxrows 6 font ",8"
  set yrange [0:*]
  plot for [i=0:*] "plot_ratio.dat" index i using 1:2 with linespoints title columnheader(2), \
       for [i=0:*] "plot_ratio_targets.dat" index i using 1:2 with lines dashtype 2 \
           lc rgb "gray40" title columnheader(2)
  set output
  reset
}

if (have("plot_append.dat")) {
  set terminal pngcairo size 1000,560 font ",10" noenhanced
  set output "append_rate.png"
  stats "plot_append.dat" using 2 nooutput
  set logscale y
  set yrange [STATS_min / 2 : STATS_max * 4]
  set grid ytics
  set ylabel "appends per second (median)"
  set title "Serial append, one trace at a time (1000 int8 samples + 3 x 16 bytes)"
  set style fill solid 0.6
  set boxwidth 0.6
  set xrange [-0.7 : STATS_records - 0.3]
  set xtics rotate by -30 font ",8"
  set bmargin 7
  unset key
  plot "plot_append.dat" using 0:2:xtic(1) with boxes, \
       "" using 0:2:(sprintf("%.0f", $2)) with labels offset 0,0.8 font ",8"
  set output
  reset
}

if (have("plot_meta.dat")) {
  set terminal pngcairo size 900,560 font ",10" noenhanced
  set output "meta_vs_datasets.png"
  stats "plot_meta.dat" using 1:2 nooutput
  set logscale xy
  set xrange [STATS_min_x / 2 : STATS_max_x * 2]
  set yrange [STATS_min_y / 2 : STATS_max_y * 2]
  set grid
  set xlabel "datasets in the store"
  set ylabel "seconds (median)"
  set title "Metadata: create N datasets, list their names (library against h5py)"
  set key left top font ",9"
  plot for [i=0:*] "plot_meta.dat" index i using 1:2 with linespoints title columnheader(2)
  set output
}
