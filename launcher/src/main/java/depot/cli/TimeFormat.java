package depot.cli;

import java.time.Duration;
import java.time.Instant;
import java.time.OffsetDateTime;
import java.time.ZoneId;
import java.time.format.DateTimeFormatter;
import java.time.format.DateTimeParseException;
import java.util.Locale;

/** Time as people read it in a table: local timestamps and "1.2s ago". */
public final class TimeFormat {
  private static final DateTimeFormatter LOCAL = DateTimeFormatter.ofPattern("yyyy-MM-dd HH:mm:ss");

  private TimeFormat() {
  }

  /** Parses ISO-8601 ("2025-01-02T03:04:05Z", with or without offset), or epoch milliseconds. */
  public static Instant parse(Object value) {
    if (value == null) {
      return null;
    }
    if (value instanceof Number n) {
      return Instant.ofEpochMilli(n.longValue());
    }
    String s = value.toString().trim();
    if (s.isEmpty()) {
      return null;
    }
    try {
      return Instant.parse(s);
    } catch (DateTimeParseException e) {
      try {
        return OffsetDateTime.parse(s).toInstant();
      } catch (DateTimeParseException e2) {
        return null;
      }
    }
  }

  /** A timestamp in the local zone, the raw text if it cannot be parsed, "-" if absent. */
  public static String local(Object value, ZoneId zone) {
    Instant instant = parse(value);
    if (instant == null) {
      return value == null || value.toString().isBlank() ? "-" : value.toString();
    }
    return LOCAL.format(instant.atZone(zone));
  }

  /** "0.4s ago", "12.0s ago", "3m05s ago", "2h07m ago", "3d04h ago"; "never" for null. */
  public static String ago(Instant then, Instant now) {
    if (then == null) {
      return "never";
    }
    Duration d = Duration.between(then, now);
    if (d.isNegative()) {
      d = Duration.ZERO; // clocks of client and server differ slightly
    }
    long s = d.toSeconds();
    if (s < 60) {
      return String.format(Locale.ROOT, "%.1fs ago", d.toMillis() / 1000.0);
    }
    if (s < 3600) {
      return String.format(Locale.ROOT, "%dm%02ds ago", s / 60, s % 60);
    }
    if (s < 86400) {
      return String.format(Locale.ROOT, "%dh%02dm ago", s / 3600, (s % 3600) / 60);
    }
    return String.format(Locale.ROOT, "%dd%02dh ago", s / 86400, (s % 86400) / 3600);
  }
}
