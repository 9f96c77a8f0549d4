package depot.gateway;

import depot.protocol.DepotException;
import depot.protocol.ErrorCode;
import depot.protocol.FileNames;
import io.vertx.ext.web.RoutingContext;

import java.io.ByteArrayOutputStream;
import java.nio.ByteBuffer;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;

/**
 * The file name in {@code /api/v1/files/{name}[/...]}, decoded strictly. The router's own decoding turns bytes
 * that are not UTF-8 into U+FFFD, so {@code %C3}, {@code %ED%A0%80} and a real {@code %EF%BF%BD} would all name
 * the same file, and it reads {@code %%} as the end of the name. Here a name is percent-escapes (or raw octets)
 * that must decode to valid UTF-8, or it is refused.
 */
final class FileNameSegment {
  static final String PREFIX = "/api/v1/files/";

  private FileNameSegment() {}

  /** The valid name of the file the request is about; else a {@link DepotException} with {@code invalid_name}. */
  static String of(RoutingContext ctx) {
    // The normalized path is the one the router matched ('.' and '..' segments resolved, escapes kept).
    String path = ctx.normalizedPath();
    if (!path.startsWith(PREFIX)) {
      throw new IllegalStateException("not a file path: " + path);
    }
    int end = path.indexOf('/', PREFIX.length());
    return FileNames.requireValid(decode(path.substring(PREFIX.length(), end < 0 ? path.length() : end)));
  }

  /** Percent-decodes one path segment into UTF-8 text; '+' stays '+' (a path is not a form). */
  static String decode(String segment) {
    ByteArrayOutputStream bytes = new ByteArrayOutputStream(segment.length());
    for (int i = 0; i < segment.length(); i++) {
      char c = segment.charAt(i);
      if (c == '%') {
        int high = i + 1 < segment.length() ? Character.digit(segment.charAt(i + 1), 16) : -1;
        int low = i + 2 < segment.length() ? Character.digit(segment.charAt(i + 2), 16) : -1;
        if (high < 0 || low < 0) {
          throw invalid("'%' must be followed by two hex digits (write '%25' for '%')");
        }
        bytes.write(high * 16 + low);
        i += 2;
      } else if (c <= 0xFF) {
        bytes.write(c); // the request line's octets, as the HTTP decoder read them
      } else {
        throw invalid("a file name in the path must be UTF-8, percent-encoded");
      }
    }
    try {
      return StandardCharsets.UTF_8.newDecoder()
          .onMalformedInput(CodingErrorAction.REPORT)
          .onUnmappableCharacter(CodingErrorAction.REPORT)
          .decode(ByteBuffer.wrap(bytes.toByteArray()))
          .toString();
    } catch (CharacterCodingException e) {
      throw invalid("file name is not valid UTF-8");
    }
  }

  private static DepotException invalid(String message) {
    return new DepotException(ErrorCode.INVALID_NAME, message);
  }
}
