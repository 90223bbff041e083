package io.prefstream.app;

import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * A small chart as inline SVG: linear axes with round ticks, each series a polyline, points, or
 * both, and a legend. Self-contained: no scripts, no styles from outside.
 */
final class SvgChart {
  /** One series; {@code labels}, when not empty, are drawn beside the points (one per point). */
  record Series(String name, String color, List<double[]> points, boolean line, boolean dots, List<String> labels) {
    Series {
      points = List.copyOf(points);
      labels = List.copyOf(labels);
    }

    static Series line(String name, String color, List<double[]> points) {
      return new Series(name, color, points, true, false, List.of());
    }
  }

  private static final int WIDTH = 560;
  private static final int HEIGHT = 320;
  private static final int LEFT = 60;
  private static final int RIGHT = 20;
  private static final int TOP = 30;
  private static final int BOTTOM = 45;

  private final String title;
  private final String xLabel;
  private final String yLabel;
  private final List<Series> series = new ArrayList<>();

  SvgChart(String title, String xLabel, String yLabel) {
    this.title = title;
    this.xLabel = xLabel;
    this.yLabel = yLabel;
  }

  SvgChart add(Series s) {
    series.add(s);
    return this;
  }

  String render() {
    double[] xs = range(0);
    double[] ys = range(1);
    StringBuilder svg = new StringBuilder();
    svg.append(String.format(Locale.ROOT, "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"%d\" height=\"%d\" viewBox=\"0 0 %d %d\" font-family=\"sans-serif\" font-size=\"11\">%n", WIDTH, HEIGHT, WIDTH, HEIGHT, WIDTH, HEIGHT));
    svg.append(String.format(Locale.ROOT, "<text x=\"%d\" y=\"18\" font-size=\"13\" font-weight=\"bold\">%s</text>%n", LEFT, Html.escape(title)));
    axes(svg, xs, ys);
    int legendY = TOP + 12;
    for (Series s : series) {
      svg.append(String.format(Locale.ROOT, "<g data-series=\"%s\" stroke=\"%s\" fill=\"%s\">%n", Html.escape(s.name()), s.color(), s.color()));
      if (s.line() && !s.points().isEmpty()) {
        StringBuilder pts = new StringBuilder();
        for (double[] p : s.points()) pts.append(String.format(Locale.ROOT, "%.1f,%.1f ", x(p[0], xs), y(p[1], ys)));
        svg.append("<polyline fill=\"none\" stroke-width=\"1.5\" points=\"").append(pts.toString().strip()).append("\"/>\n");
      }
      for (int i = 0; i < s.points().size(); i++) {
        double[] p = s.points().get(i);
        if (s.dots()) svg.append(String.format(Locale.ROOT, "<circle cx=\"%.1f\" cy=\"%.1f\" r=\"3\"/>%n", x(p[0], xs), y(p[1], ys)));
        if (i < s.labels().size()) {
          svg.append(String.format(Locale.ROOT, "<text stroke=\"none\" x=\"%.1f\" y=\"%.1f\">%s</text>%n", x(p[0], xs) + 4, y(p[1], ys) - 4, Html.escape(s.labels().get(i))));
        }
      }
      svg.append(String.format(Locale.ROOT, "<rect x=\"%d\" y=\"%d\" width=\"10\" height=\"3\"/><text stroke=\"none\" x=\"%d\" y=\"%d\">%s</text>%n",
          WIDTH - RIGHT - 170, legendY - 3, WIDTH - RIGHT - 155, legendY, Html.escape(s.name())));
      svg.append("</g>\n");
      legendY += 14;
    }
    return svg.append("</svg>\n").toString();
  }

  private void axes(StringBuilder svg, double[] xs, double[] ys) {
    int bottom = HEIGHT - BOTTOM;
    svg.append(String.format(Locale.ROOT, "<g stroke=\"#444\"><line x1=\"%d\" y1=\"%d\" x2=\"%d\" y2=\"%d\"/><line x1=\"%d\" y1=\"%d\" x2=\"%d\" y2=\"%d\"/></g>%n",
        LEFT, bottom, WIDTH - RIGHT, bottom, LEFT, TOP, LEFT, bottom));
    for (double t : ticks(xs)) {
      svg.append(String.format(Locale.ROOT, "<text x=\"%.1f\" y=\"%d\" text-anchor=\"middle\">%s</text>%n", x(t, xs), bottom + 15, tick(t)));
    }
    for (double t : ticks(ys)) {
      svg.append(String.format(Locale.ROOT, "<line stroke=\"#ddd\" x1=\"%d\" y1=\"%.1f\" x2=\"%d\" y2=\"%.1f\"/><text x=\"%d\" y=\"%.1f\" text-anchor=\"end\">%s</text>%n",
          LEFT + 1, y(t, ys), WIDTH - RIGHT, y(t, ys), LEFT - 5, y(t, ys) + 4, tick(t)));
    }
    svg.append(String.format(Locale.ROOT, "<text x=\"%d\" y=\"%d\" text-anchor=\"middle\">%s</text>%n", (LEFT + WIDTH - RIGHT) / 2, HEIGHT - 8, Html.escape(xLabel)));
    svg.append(String.format(Locale.ROOT, "<text transform=\"translate(14,%d) rotate(-90)\" text-anchor=\"middle\">%s</text>%n", (TOP + bottom) / 2, Html.escape(yLabel)));
  }

  /** [min, max] of one coordinate over every series, widened when all values are equal. */
  private double[] range(int coordinate) {
    double min = Double.POSITIVE_INFINITY;
    double max = Double.NEGATIVE_INFINITY;
    for (Series s : series) {
      for (double[] p : s.points()) {
        if (!Double.isFinite(p[coordinate])) continue;
        min = Math.min(min, p[coordinate]);
        max = Math.max(max, p[coordinate]);
      }
    }
    if (min > max) return new double[] {0, 1};
    if (min == max) return new double[] {min - 0.5, max + 0.5};
    double pad = (max - min) * 0.05;
    return new double[] {min - pad, max + pad};
  }

  private static double x(double v, double[] range) {
    return LEFT + (v - range[0]) / (range[1] - range[0]) * (WIDTH - LEFT - RIGHT);
  }

  private static double y(double v, double[] range) {
    return HEIGHT - BOTTOM - (v - range[0]) / (range[1] - range[0]) * (HEIGHT - TOP - BOTTOM);
  }

  /** About five ticks at multiples of 1, 2 or 5 times a power of ten. */
  private static List<Double> ticks(double[] range) {
    double raw = (range[1] - range[0]) / 5;
    double magnitude = Math.pow(10, Math.floor(Math.log10(raw)));
    double step = raw / magnitude < 2 ? magnitude : raw / magnitude < 5 ? 2 * magnitude : 5 * magnitude;
    List<Double> ticks = new ArrayList<>();
    for (double t = Math.ceil(range[0] / step) * step; t <= range[1]; t += step) ticks.add(t);
    return ticks;
  }

  private static String tick(double v) {
    return Math.abs(v - Math.rint(v)) < 1e-9 ? Long.toString(Math.round(v)) : String.format(Locale.ROOT, "%.2f", v);
  }
}
