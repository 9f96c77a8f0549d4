package depot.protocol;

/** A single HTTP byte range ({@code bytes=a-b}, {@code bytes=a-}, {@code bytes=-n}) resolved against a size. */
public record ByteRange(long first, long last, boolean partial) {

  public long length() {
    return last < first ? 0 : last - first + 1;
  }

  public String contentRange(long size) {
    return "bytes " + first + "-" + last + "/" + size;
  }

  public static ByteRange parse(String header, long size) {
    if (header == null || header.isBlank()) {
      return new ByteRange(0, size - 1, false);
    }
    String h = header.trim();
    int equals = h.indexOf('=');
    if (equals > 0 && !h.substring(0, equals).trim().equalsIgnoreCase("bytes")) {
      return new ByteRange(0, size - 1, false); // a unit other than bytes must be ignored (RFC 9110 section 14.2)
    }
    if (equals <= 0 || h.contains(",")) {
      throw new DepotException(ErrorCode.RANGE_NOT_SATISFIABLE, "only one range of the form bytes=a-b is supported");
    }
    String spec = h.substring(equals + 1).trim();
    int dash = spec.indexOf('-');
    if (dash < 0) {
      throw new DepotException(ErrorCode.RANGE_NOT_SATISFIABLE, "malformed range '" + header + "'");
    }
    try {
      String a = spec.substring(0, dash).trim();
      String b = spec.substring(dash + 1).trim();
      long first;
      long last;
      if (a.isEmpty()) {
        long suffix = Long.parseLong(b);
        if (suffix <= 0) {
          throw new NumberFormatException();
        }
        first = Math.max(0, size - suffix);
        last = size - 1;
      } else {
        first = Long.parseLong(a);
        last = b.isEmpty() ? size - 1 : Math.min(Long.parseLong(b), size - 1);
      }
      if (first < 0 || first >= size || last < first) {
        throw new DepotException(ErrorCode.RANGE_NOT_SATISFIABLE, "range '" + header + "' is outside 0-" + (size - 1));
      }
      return new ByteRange(first, last, true);
    } catch (NumberFormatException e) {
      throw new DepotException(ErrorCode.RANGE_NOT_SATISFIABLE, "malformed range '" + header + "'");
    }
  }
}
