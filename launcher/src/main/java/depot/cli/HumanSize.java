package depot.cli;

import java.util.Locale;

/** Formats byte counts for people: 1023 B, 1.0 KiB, 4.5 MiB (powers of 1024, one decimal). */
public final class HumanSize {
  private static final String[] UNITS = {"KiB", "MiB", "GiB", "TiB", "PiB", "EiB"};

  private HumanSize() {
  }

  public static String format(long bytes) {
    if (bytes < 0) {
      return "-";
    }
    if (bytes < 1024) {
      return bytes + " B";
    }
    double value = bytes;
    int unit = -1;
    // Stop at 1000 of a unit rather than 1024 so we print "1.0 MiB", never "1024.0 KiB".
    while (value >= 1000 && unit < UNITS.length - 1) {
      value /= 1024;
      unit++;
    }
    return String.format(Locale.ROOT, "%.1f %s", value, UNITS[unit]);
  }
}
