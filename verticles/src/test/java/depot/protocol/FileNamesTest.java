package depot.protocol;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import java.nio.charset.StandardCharsets;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class FileNamesTest {

  private static int utf8(String s) {
    return s.getBytes(StandardCharsets.UTF_8).length;
  }

  private static void assertValid(String name) {
    assertNull(FileNames.problem(name), () -> "expected valid: " + escape(name));
    assertSame(name, FileNames.requireValid(name));
  }

  private static String assertInvalid(String name) {
    String problem = FileNames.problem(name);
    assertNotNull(problem, () -> "expected invalid: " + escape(name));
    assertOneLine(problem);
    DepotException e = assertThrows(DepotException.class, () -> FileNames.requireValid(name));
    assertEquals(ErrorCode.INVALID_NAME, e.code());
    assertEquals(problem, e.getMessage());
    assertOneLine(e.getMessage());
    return problem;
  }

  private static void assertOneLine(String message) {
    assertFalse(message.isBlank(), "message is empty");
    assertTrue(message.chars().noneMatch(c -> c == '\n' || c == '\r' || Character.isISOControl(c)),
        () -> "message is not one printable line: " + escape(message));
  }

  private static String escape(String s) {
    if (s == null) {
      return "null";
    }
    StringBuilder sb = new StringBuilder();
    s.chars().forEach(c -> sb.append(c < 0x20 || c >= 0x7f ? String.format("\\u%04x", c) : String.valueOf((char) c)));
    return sb.toString();
  }

  @ParameterizedTest
  @ValueSource(strings = {"a", "report.pdf", "my file (final) v2.txt", " leading space", "trailing space ",
      "...", ".hidden", "a..b", "..a", "résumé.doc", "日本語のファイル.txt", "😀 smile.png", "Ωmega-ü-ß", "tab\\like",
      "semi;colon&amp=%20", "a:b*c?d\"e<f>g|h", "\u00a0nbsp", "\u200bzero-width"})
  void validNames(String name) {
    assertValid(name);
  }

  @Test
  void exactly255AsciiBytesIsValid() {
    String name = "x".repeat(255);
    assertEquals(255, utf8(name));
    assertValid(name);
  }

  @Test
  void exactly255BytesWithTwoByteCharactersIsValid() {
    String name = "é".repeat(127) + "a"; // 127 * 2 + 1
    assertEquals(255, utf8(name));
    assertValid(name);
  }

  @Test
  void exactly255BytesWithThreeByteCharactersIsValid() {
    String name = "日".repeat(85); // 85 * 3
    assertEquals(255, utf8(name));
    assertValid(name);
  }

  @Test
  void exactly255BytesWithFourByteCharactersIsValid() {
    String name = "😀".repeat(63) + "abc"; // 63 * 4 + 3, and 129 UTF-16 units
    assertEquals(255, utf8(name));
    assertValid(name);
  }

  @Test
  void validNameNeedsFewerBytesThanCharactersTimesFour() {
    // 255 characters but many more bytes: the limit is in bytes, not characters
    String name = "é".repeat(255);
    assertEquals(510, utf8(name));
    assertTrue(assertInvalid(name).contains("510"));
  }

  @Test
  void bytes256IsInvalid() {
    String ascii = "x".repeat(256);
    assertTrue(assertInvalid(ascii).contains("256"));
    String multi = "é".repeat(128);
    assertEquals(256, utf8(multi));
    assertTrue(assertInvalid(multi).contains("256"));
    String emoji = "😀".repeat(64);
    assertEquals(256, utf8(emoji));
    assertInvalid(emoji);
  }

  @Test
  void emptyAndNullAreInvalid() {
    assertInvalid("");
    assertInvalid(null);
  }

  @Test
  void dotAndDotDotAreInvalid() {
    assertInvalid(".");
    assertInvalid("..");
  }

  @ParameterizedTest
  @ValueSource(strings = {"/", "a/b", "/abs", "trailing/", "../etc/passwd", "./x"})
  void slashIsInvalid(String name) {
    assertTrue(assertInvalid(name).contains("/"));
  }

  @Test
  void nulIsInvalid() {
    assertInvalid("\0");
    assertInvalid("a\0b");
    assertInvalid("name.txt\0.jpg");
  }

  @ParameterizedTest
  @ValueSource(strings = {"a\nb", "a\rb", "a\tb", "\n", "line\r\n", "del\u007f", "\u0001", "esc\u001b[31m",
      "c1\u0085", "c1\u009f"})
  void controlCharactersAreInvalid(String name) {
    assertInvalid(name);
  }

  @Test
  void loneSurrogatesAreInvalid() {
    assertInvalid("\uD800");
    assertInvalid("a\uD83Db"); // high surrogate without low
    assertInvalid("a\uDE00b"); // low surrogate without high
    assertInvalid("\uDFFF");
    assertInvalid("x".repeat(10) + "\uD83D"); // high surrogate at the very end
  }

  @Test
  void supplementaryCharactersWhoseLow16BitsLookLikeSurrogatesAreValid() {
    // U+1D800 (SignWriting) and U+2D800 (CJK Unified Ideographs Extension F) are real characters.
    // Their code points cast to char (0xD800) fall in the surrogate range.
    String signWriting = new String(Character.toChars(0x1D800));
    String cjkExtF = new String(Character.toChars(0x2D800));
    assertTrue(Character.isDefined(0x1D800));
    assertTrue(Character.isDefined(0x2D800));
    assertNull(FileNames.problem("sign " + signWriting + ".txt"), "U+1D800 must be accepted");
    assertNull(FileNames.problem(cjkExtF + ".txt"), "U+2D800 must be accepted");
  }

  @Test
  void everyMessageIsOneLine() {
    String[] bad = {"", ".", "..", "a/b", "\0", "a\nb", "\u007f", "x".repeat(300), "\uD800"};
    for (String name : bad) {
      assertOneLine(FileNames.problem(name));
    }
  }
}
