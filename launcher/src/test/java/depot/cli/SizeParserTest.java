package depot.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.ValueSource;
import picocli.CommandLine.TypeConversionException;

class SizeParserTest {

  @ParameterizedTest
  @CsvSource({
      "0, 0",
      "4096, 4096",
      "12B, 12",
      "4KiB, 4096",
      "64KiB, 65536",
      "1MiB, 1048576",
      "1GiB, 1073741824",
      "2TiB, 2199023255552",
      "4K, 4096",
      "1M, 1048576",
      "1G, 1073741824",
      "4k, 4096",
      "1mib, 1048576",
      "1KB, 1000",
      "5MB, 5000000",
      "1GB, 1000000000",
      "1.5MiB, 1572864",
      "0.5K, 512",
      "' 8 KiB ', 8192",
  })
  void parsesSizes(String text, long expected) {
    assertEquals(expected, SizeParser.parse(text));
  }

  @ParameterizedTest
  @ValueSource(strings = {"", "KiB", "-1", "1X", "1 KiBs", "1.1B", "abc", "9999999999TiB", "1e6"})
  void rejectsNonsense(String text) {
    assertThrows(IllegalArgumentException.class, () -> SizeParser.parse(text));
  }

  @Test
  void converterReportsAReadableReason() {
    TypeConversionException e = assertThrows(TypeConversionException.class, () -> new SizeParser().convert("3X"));
    assertEquals("invalid size '3X' (examples: 4096, 64KiB, 1MiB, 1G)", e.getMessage());
  }
}
