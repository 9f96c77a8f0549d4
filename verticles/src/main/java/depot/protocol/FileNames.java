package depot.protocol;

import java.nio.charset.StandardCharsets;

/**
 * Rules for user-given file names: UTF-8, 1-255 bytes, no '/', NUL or control characters, not "." or "..".
 * Names are catalog keys only; they never become file-system paths.
 */
public final class FileNames {
  public static final int MAX_BYTES = 255;

  private FileNames() {}

  /** Returns the name if valid, else throws {@link DepotException} with {@link ErrorCode#INVALID_NAME}. */
  public static String requireValid(String name) {
    String problem = problem(name);
    if (problem != null) {
      throw new DepotException(ErrorCode.INVALID_NAME, problem);
    }
    return name;
  }

  /** A one-line explanation of what is wrong with the name, or null when it is fine. */
  public static String problem(String name) {
    if (name == null || name.isEmpty()) {
      return "file name must not be empty";
    }
    if (name.equals(".") || name.equals("..")) {
      return "file name must not be '.' or '..'";
    }
    int bytes = name.getBytes(StandardCharsets.UTF_8).length;
    if (bytes > MAX_BYTES) {
      return "file name is " + bytes + " bytes long; the limit is " + MAX_BYTES;
    }
    for (int i = 0; i < name.length(); ) {
      int cp = name.codePointAt(i);
      if (cp == '/') {
        return "file name must not contain '/'";
      }
      if (cp == 0) {
        return "file name must not contain NUL";
      }
      if (Character.isISOControl(cp)) {
        return "file name must not contain control characters";
      }
      if (cp >= Character.MIN_SURROGATE && cp <= Character.MAX_SURROGATE) { // unpaired surrogate
        return "file name is not valid UTF-8";
      }
      i += Character.charCount(cp);
    }
    return null;
  }
}
