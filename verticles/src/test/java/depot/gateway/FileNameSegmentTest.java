package depot.gateway;

import depot.protocol.DepotException;
import depot.protocol.ErrorCode;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.ValueSource;

import java.nio.charset.StandardCharsets;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

class FileNameSegmentTest {
  @ParameterizedTest
  @CsvSource(delimiter = '|', value = {
      "plain.txt|plain.txt",
      "a+b|a+b",
      "x%25y|x%y",
      "%20lead|' lead'",
      "%C3%A9t%C3%A9|\u00e9t\u00e9",
      "%c3%a9|\u00e9",
      "%EF%BF%BD|\uFFFD",
      "%F0%9F%93%A6|\uD83D\uDCE6",
      "%2F|/", // decoded here; FileNames refuses it
  })
  void decodesPercentEncodedUtf8(String segment, String name) {
    assertEquals(name, FileNameSegment.decode(segment));
  }

  @ParameterizedTest
  @ValueSource(strings = {"\u00c3\u00a9", "\u00f0\u009f\u0093\u00a6"}) // é and 📦 as the HTTP decoder hands raw octets over
  void takesRawUtf8OctetsAsTheyCame(String octets) {
    String expected = new String(octets.getBytes(StandardCharsets.ISO_8859_1), StandardCharsets.UTF_8);
    assertEquals(expected, FileNameSegment.decode(octets));
  }

  @ParameterizedTest
  @ValueSource(strings = {
      "%C3", "%C3%28", "%C0%AF", "%ED%A0%80", "%FF", "%F8%88%80%80%80", // not UTF-8: truncated, overlong, surrogate, bytes UTF-8 never has
      "%", "a%", "ab%4", "%zz", "%%", "a%%bc", "%G0", // broken escapes
      "\u00c3", // a raw octet that starts a sequence and ends nothing
      "\u0100", // not an octet at all
  })
  void refusesWhatIsNotPercentEncodedUtf8(String segment) {
    DepotException e = assertThrows(DepotException.class, () -> FileNameSegment.decode(segment));
    assertEquals(ErrorCode.INVALID_NAME, e.code());
  }
}
