package io.jremus.cli.bench;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;

import java.io.IOException;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Benchmark results as rows of named metrics: printed as an aligned table for people and
 * written as JSON for machines. A row holds a metric, its unit, the value on jremus, the value
 * on the reference (QEMU or the host) if there is one, and their ratio.
 */
public final class BenchTable {
    /** One measured quantity; {@code reference} and {@code ratio} are NaN when not applicable. */
    public record Row(String metric, String unit, double jremus, double reference, String referenceName, String note) {
        public double ratio() {
            return Double.isNaN(reference) || reference == 0 ? Double.NaN : jremus / reference;
        }
    }

    private final String name;
    private final List<Row> rows = new ArrayList<>();
    private final Map<String, Object> environment = new LinkedHashMap<>();

    public BenchTable(String name) {
        this.name = name;
        environment.put("timestamp", Instant.now().toString());
        environment.put("java", Runtime.version().toString());
        environment.put("cpus", Runtime.getRuntime().availableProcessors());
        environment.put("os", System.getProperty("os.name") + " " + System.getProperty("os.version"));
    }

    public BenchTable env(String key, Object value) {
        environment.put(key, value);
        return this;
    }

    public void add(String metric, String unit, double jremus, double reference, String referenceName, String note) {
        rows.add(new Row(metric, unit, jremus, reference, referenceName, note));
    }

    public void add(String metric, String unit, double jremus, String note) {
        add(metric, unit, jremus, Double.NaN, "", note);
    }

    public List<Row> rows() {
        return List.copyOf(rows);
    }

    public void print(PrintStream out) {
        int w = 8;
        for (Row r : rows) w = Math.max(w, r.metric().length());
        out.printf("%n%s%n", name);
        out.printf("%-" + w + "s  %-6s  %12s  %12s  %-8s  %7s  %s%n", "metric", "unit", "jremus", "reference", "ref", "ratio", "note");
        for (Row r : rows) {
            out.printf("%-" + w + "s  %-6s  %12s  %12s  %-8s  %7s  %s%n", r.metric(), r.unit(), fmt(r.jremus()),
                    fmt(r.reference()), r.referenceName(), Double.isNaN(r.ratio()) ? "" : String.format("%.2f", r.ratio()), r.note());
        }
    }

    public void writeJson(Path file) throws IOException {
        Map<String, Object> doc = new LinkedHashMap<>();
        doc.put("benchmark", name);
        doc.put("environment", environment);
        List<Map<String, Object>> out = new ArrayList<>();
        for (Row r : rows) {
            Map<String, Object> m = new LinkedHashMap<>();
            m.put("metric", r.metric());
            m.put("unit", r.unit());
            m.put("jremus", nanToNull(r.jremus()));
            m.put("reference", nanToNull(r.reference()));
            m.put("referenceName", r.referenceName());
            m.put("ratio", nanToNull(r.ratio()));
            m.put("note", r.note());
            out.add(m);
        }
        doc.put("rows", out);
        if (file.getParent() != null) Files.createDirectories(file.getParent());
        new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT).writeValue(file.toFile(), doc);
    }

    private static Object nanToNull(double d) {
        return Double.isNaN(d) ? null : d;
    }

    private static String fmt(double d) {
        if (Double.isNaN(d)) return "";
        if (d == Math.rint(d) && Math.abs(d) < 1e12) return String.format("%.0f", d);
        return Math.abs(d) >= 100 ? String.format("%.1f", d) : String.format("%.3f", d);
    }
}
