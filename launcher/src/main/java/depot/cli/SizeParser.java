package depot.cli;

import java.math.BigDecimal;
import java.util.Locale;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import picocli.CommandLine.ITypeConverter;
import picocli.CommandLine.TypeConversionException;

/**
 * Parses byte sizes such as {@code 4096}, {@code 4KiB}, {@code 1.5MiB}, {@code 1G}.
 * KiB/MiB/GiB/TiB and the short K/M/G/T are powers of 1024; KB/MB/GB/TB are powers of 1000.
 */
public final class SizeParser implements ITypeConverter<Long> {
  private static final Pattern SIZE = Pattern.compile("(\\d+(?:\\.\\d+)?)\\s*([a-z]*)");
  private static final Map<String, Long> UNITS = Map.ofEntries(
      Map.entry("", 1L), Map.entry("b", 1L),
      Map.entry("k", 1L << 10), Map.entry("kib", 1L << 10), Map.entry("kb", 1_000L),
      Map.entry("m", 1L << 20), Map.entry("mib", 1L << 20), Map.entry("mb", 1_000_000L),
      Map.entry("g", 1L << 30), Map.entry("gib", 1L << 30), Map.entry("gb", 1_000_000_000L),
      Map.entry("t", 1L << 40), Map.entry("tib", 1L << 40), Map.entry("tb", 1_000_000_000_000L));

  public static long parse(String text) {
    if (text == null) {
      throw new IllegalArgumentException("missing size");
    }
    Matcher m = SIZE.matcher(text.trim().toLowerCase(Locale.ROOT));
    Long unit = m.matches() ? UNITS.get(m.group(2)) : null;
    if (unit == null) {
      throw new IllegalArgumentException("invalid size '" + text + "' (examples: 4096, 64KiB, 1MiB, 1G)");
    }
    BigDecimal bytes = new BigDecimal(m.group(1)).multiply(BigDecimal.valueOf(unit));
    try {
      return bytes.toBigIntegerExact().longValueExact();
    } catch (ArithmeticException e) {
      throw new IllegalArgumentException("invalid size '" + text + "' (not a whole number of bytes, or too large)");
    }
  }

  /** picocli hook, so options can be declared as {@code long} with this converter. */
  @Override
  public Long convert(String value) {
    try {
      return parse(value);
    } catch (IllegalArgumentException e) {
      throw new TypeConversionException(e.getMessage()); // picocli prints it as the reason
    }
  }
}
