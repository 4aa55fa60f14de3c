# Charts of a benchmark run, from the plot_*.dat files summarize.py writes.
# Run in the results directory: gnuplot /path/to/bench/plot.gnuplot
set terminal pngcairo size 1400,480 font ",10" noenhanced
set key outside right top
set grid
set xlabel "MPI ranks"
set logscale x 2
set xrange [0.7:11]

set output "bandwidth_vs_ranks.png"
set multiplot layout 1,3 title "Bandwidth vs ranks (median of the repetitions, MB = 10^6 bytes)"
set key inside left top font ",8"
set ylabel "MB/s"
set title "collective extend, observed (open..close)"
plot for [i=0:*] "plot_bw_extend.dat" index i using 1:2 with linespoints title columnheader(2)
set title "collective read, observed"
plot for [i=0:*] "plot_bw_read.dat" index i using 1:2 with linespoints title columnheader(2)
set title "parallel export"
plot for [i=0:*] "plot_bw_export.dat" index i using 1:2 with linespoints title columnheader(2)
unset multiplot

set terminal pngcairo size 1100,760 font ",10" noenhanced
set output "ratio_vs_ranks.png"
set title "Library / baseline throughput (median); 1 = parity, targets 0.9 (extend, read), 0.8 (export)"
set ylabel "ratio"
set key below maxrows 6 font ",8"
set yrange [0:*]
plot for [i=0:*] "plot_ratio.dat" index i using 1:2 with linespoints title columnheader(2), \
     0.9 with lines dashtype 2 lc rgb "gray40" title "target 0.9", \
     0.8 with lines dashtype 3 lc rgb "gray60" title "target 0.8"

set terminal pngcairo size 1000,560 font ",10" noenhanced
set output "append_rate.png"
unset logscale x
set autoscale
set logscale y
set xlabel ""
set ylabel "appends per second (median)"
set title "Serial append, one trace at a time (1000 int8 samples + 3 x 16 bytes)"
set style fill solid 0.6
set boxwidth 0.6
set xtics rotate by -30 font ",8"
set bmargin 7
unset key
plot "plot_append.dat" using 0:2:xtic(1) with boxes, \
     "" using 0:2:(sprintf("%.0f", $2)) with labels offset 0,0.8 font ",8"
