package depot.cli;

import java.net.URLEncoder;
import java.nio.charset.StandardCharsets;

/** Encodes a file name as exactly one URL path segment. */
public final class PathSegment {
  private PathSegment() {
  }

  /**
   * URLEncoder targets form bodies, where a space is "+"; in a path "+" is a literal plus, so spaces
   * become %20. "/" becomes %2F, so a name never splits into two segments.
   */
  public static String encode(String name) {
    if (name == null || name.isEmpty()) {
      throw new CliException("file name must not be empty");
    }
    String encoded = URLEncoder.encode(name, StandardCharsets.UTF_8).replace("+", "%20");
    // "." and ".." would be removed by URI normalisation on either side; escape them.
    if (encoded.equals(".") || encoded.equals("..")) {
      encoded = encoded.replace(".", "%2E");
    }
    return encoded;
  }
}
