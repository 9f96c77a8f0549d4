package depot.storage;

import depot.protocol.DepotException;

import java.util.UUID;
import java.util.regex.Pattern;

/** Blob ids are UUIDs minted by the coordinator: the only names that ever reach a storage node's disk. */
public final class BlobIds {
  private static final Pattern UUID_FORM = Pattern.compile("[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}");

  private BlobIds() {}

  public static String newId() {
    return UUID.randomUUID().toString();
  }

  public static boolean isValid(String id) {
    return id != null && UUID_FORM.matcher(id).matches();
  }

  public static String requireValid(String id) {
    if (!isValid(id)) {
      throw DepotException.badRequest("malformed blob id");
    }
    return id;
  }
}
