package depot.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;

import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

class HumanSizeTest {

  @ParameterizedTest
  @CsvSource({
      "0, 0 B",
      "1, 1 B",
      "1023, 1023 B",
      "1024, 1.0 KiB",
      "1536, 1.5 KiB",
      "1048575, 1.0 MiB",
      "1048576, 1.0 MiB",
      "5242880, 5.0 MiB",
      "1073741824, 1.0 GiB",
      "1099511627776, 1.0 TiB",
      "9223372036854775807, 8.0 EiB",
      "-1, -",
  })
  void formats(long bytes, String expected) {
    assertEquals(expected, HumanSize.format(bytes));
  }
}
