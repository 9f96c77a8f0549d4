package depot.cli;

import java.io.PrintStream;
import java.util.ArrayList;
import java.util.List;

/** A plain-text table with aligned columns, for listing files and nodes. */
public final class Table {
  private final String[] headers;
  private final boolean[] rightAligned;
  private final List<String[]> rows = new ArrayList<>();

  public Table(String... headers) {
    this.headers = headers;
    this.rightAligned = new boolean[headers.length];
  }

  /** Numbers read better aligned on the right. */
  public Table alignRight(int... columns) {
    for (int c : columns) {
      rightAligned[c] = true;
    }
    return this;
  }

  public Table row(Object... cells) {
    if (cells.length != headers.length) {
      throw new IllegalArgumentException("expected " + headers.length + " cells, got " + cells.length);
    }
    String[] row = new String[cells.length];
    for (int i = 0; i < cells.length; i++) {
      row[i] = cells[i] == null ? "-" : cells[i].toString();
    }
    rows.add(row);
    return this;
  }

  public void print(PrintStream out) {
    int[] widths = new int[headers.length];
    for (int c = 0; c < headers.length; c++) {
      widths[c] = headers[c].length();
      for (String[] row : rows) {
        widths[c] = Math.max(widths[c], row[c].length());
      }
    }
    out.println(line(headers, widths));
    for (String[] row : rows) {
      out.println(line(row, widths));
    }
  }

  private String line(String[] cells, int[] widths) {
    StringBuilder sb = new StringBuilder();
    for (int c = 0; c < cells.length; c++) {
      if (c > 0) {
        sb.append("  ");
      }
      String pad = " ".repeat(widths[c] - cells[c].length());
      sb.append(rightAligned[c] ? pad + cells[c] : cells[c] + (c == cells.length - 1 ? "" : pad));
    }
    return sb.toString();
  }
}
