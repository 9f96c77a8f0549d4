package depot.gateway;

/**
 * The conditional headers of a download (RFC 9110 section 13), against the file's one entity tag, its SHA-256.
 * A resuming client relies on them: a range of new content glued to the start of the old would be a corrupt file.
 */
final class Preconditions {
  private Preconditions() {}

  /**
   * {@code If-None-Match}: true when the client already has this content (answer 304). Any listed tag matches by
   * weak comparison, {@code *} matches any content.
   */
  static boolean noneMatchHits(String header, String etag) {
    if (header == null) {
      return false;
    }
    for (String tag : header.split(",")) {
      String t = tag.trim();
      if (t.equals("*") || opaque(t).equals(opaque(etag))) {
        return true;
      }
    }
    return false;
  }

  /**
   * {@code If-Range}: true when the client's {@code Range} may be served. Only the same strong tag keeps it; a
   * weak tag or a date (there is no {@code Last-Modified} to compare with) means the whole file is sent.
   */
  static boolean rangeHolds(String header, String etag) {
    return header == null || header.trim().equals(etag);
  }

  private static String opaque(String tag) {
    return tag.startsWith("W/") ? tag.substring(2) : tag;
  }
}
