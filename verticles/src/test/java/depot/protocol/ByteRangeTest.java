package depot.protocol;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class ByteRangeTest {

  private static void assertRange(ByteRange r, long first, long last, boolean partial) {
    assertEquals(first, r.first(), "first");
    assertEquals(last, r.last(), "last");
    assertEquals(partial, r.partial(), "partial");
  }

  private static DepotException unsatisfiable(String header, long size) {
    DepotException e = assertThrows(DepotException.class, () -> ByteRange.parse(header, size),
        () -> "expected 416 for '" + header + "' of size " + size);
    assertEquals(ErrorCode.RANGE_NOT_SATISFIABLE, e.code());
    assertEquals(416, e.code().httpStatus());
    return e;
  }

  @Test
  void noHeaderMeansTheWholeContent() {
    ByteRange r = ByteRange.parse(null, 1000);
    assertRange(r, 0, 999, false);
    assertEquals(1000, r.length());
    assertRange(ByteRange.parse("", 1000), 0, 999, false);
    assertRange(ByteRange.parse("   ", 1000), 0, 999, false);
  }

  @Test
  void noHeaderOnEmptyContentHasLengthZero() {
    ByteRange r = ByteRange.parse(null, 0);
    assertFalse(r.partial());
    assertEquals(0, r.length());
  }

  @Test
  void firstToLast() {
    ByteRange r = ByteRange.parse("bytes=10-19", 100);
    assertRange(r, 10, 19, true);
    assertEquals(10, r.length());
    assertEquals("bytes 10-19/100", r.contentRange(100));
  }

  @Test
  void singleByte() {
    ByteRange r = ByteRange.parse("bytes=0-0", 100);
    assertRange(r, 0, 0, true);
    assertEquals(1, r.length());
    assertRange(ByteRange.parse("bytes=99-99", 100), 99, 99, true);
  }

  @Test
  void wholeRangeExplicitly() {
    ByteRange r = ByteRange.parse("bytes=0-99", 100);
    assertRange(r, 0, 99, true);
    assertEquals(100, r.length());
  }

  @Test
  void openEnded() {
    ByteRange r = ByteRange.parse("bytes=90-", 100);
    assertRange(r, 90, 99, true);
    assertEquals(10, r.length());
    assertEquals("bytes 90-99/100", r.contentRange(100));
    assertRange(ByteRange.parse("bytes=0-", 100), 0, 99, true);
  }

  @Test
  void suffix() {
    ByteRange r = ByteRange.parse("bytes=-10", 100);
    assertRange(r, 90, 99, true);
    assertEquals(10, r.length());
  }

  @Test
  void suffixLongerThanContentIsTheWholeContent() {
    assertRange(ByteRange.parse("bytes=-1000", 100), 0, 99, true);
    assertRange(ByteRange.parse("bytes=-100", 100), 0, 99, true);
  }

  @Test
  void lastPastTheEndIsClamped() {
    ByteRange r = ByteRange.parse("bytes=50-1000000", 100);
    assertRange(r, 50, 99, true);
    assertEquals(50, r.length());
    assertEquals("bytes 50-99/100", r.contentRange(100));
    assertRange(ByteRange.parse("bytes=0-" + Long.MAX_VALUE, 100), 0, 99, true);
  }

  @Test
  void whitespaceAroundTheSpecIsTolerated() {
    assertRange(ByteRange.parse("  bytes= 10 - 19 ", 100), 10, 19, true);
  }

  @Test
  void largeOffsets() {
    long size = 5L * 1024 * 1024 * 1024; // 5 GiB: past int range
    ByteRange r = ByteRange.parse("bytes=4294967296-", size);
    assertRange(r, 4294967296L, size - 1, true);
    assertEquals(size - 4294967296L, r.length());
  }

  @Test
  void startAtOrPastTheEndIsUnsatisfiable() {
    unsatisfiable("bytes=100-", 100);
    unsatisfiable("bytes=100-200", 100);
    unsatisfiable("bytes=1000-2000", 100);
    unsatisfiable("bytes=0-", 0);
    unsatisfiable("bytes=0-0", 0);
    unsatisfiable("bytes=-5", 0);
  }

  @Test
  void lastBeforeFirstIsUnsatisfiable() {
    unsatisfiable("bytes=20-10", 100);
  }

  @Test
  void unsatisfiableMessageIsUseful() {
    DepotException e = unsatisfiable("bytes=200-300", 100);
    assertTrue(e.getMessage().contains("0-99"), e.getMessage());
  }

  @ParameterizedTest
  @ValueSource(strings = {"bytes=abc", "bytes=", "bytes=5", "bytes=a-b", "bytes=1-x", "bytes=x-1", "bytes=-",
      "bytes=-0", "bytes=--5", "bytes=-5-10", "bytes=1.5-2", "0-10", "=0-10", "bytes 0-10", "BYTES=0-10x",
      "bytes=0x10-20", "bytes=99999999999999999999-"})
  void malformedIsUnsatisfiable(String header) {
    unsatisfiable(header, 100);
  }

  @ParameterizedTest
  @ValueSource(strings = {"items=0-10", "rows=5-", " pages = 1-2"})
  void aUnitOtherThanBytesIsIgnored(String header) {
    assertRange(ByteRange.parse(header, 100), 0, 99, false);
  }

  @Test
  void theBytesUnitIsCaseInsensitive() {
    assertRange(ByteRange.parse("Bytes=10-19", 100), 10, 19, true);
  }

  @ParameterizedTest
  @ValueSource(strings = {"bytes=0-1,3-4", "bytes=0-1, 5-9", "bytes=-5,0-1", "bytes=0-1,"})
  void multipleRangesAreUnsatisfiable(String header) {
    unsatisfiable(header, 100);
  }
}
