package depot.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.net.URI;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

class PathSegmentTest {

  @ParameterizedTest
  @CsvSource(delimiter = '|', value = {
      "report.pdf|report.pdf",
      "my file.txt|my%20file.txt",
      "a+b.txt|a%2Bb.txt",
      "a/b|a%2Fb",
      "100%|100%25",
      "é|%C3%A9",
      "日本.txt|%E6%97%A5%E6%9C%AC.txt",
      "q?x#y|q%3Fx%23y",
      ".|%2E",
      "..|%2E%2E",
      "...|...",
      ".hidden|.hidden",
  })
  void encodesAsOneSegment(String name, String expected) {
    assertEquals(expected, PathSegment.encode(name));
  }

  @ParameterizedTest
  @CsvSource(delimiter = '|', value = {"my file.txt", "a/b c+d", "日本 é.txt", "..", "%20"})
  void decodesBackToTheSameName(String name) {
    URI uri = URI.create("http://h" + ApiClient.filePath(name));
    assertEquals("/api/v1/files/" + name, uri.getPath(), "the decoded path ends with the name itself");
    assertEquals(4, uri.getRawPath().split("/").length - 1, "exactly one segment after /api/v1/files");
  }

  @org.junit.jupiter.api.Test
  void rejectsEmptyNames() {
    assertThrows(CliException.class, () -> PathSegment.encode(""));
  }
}
