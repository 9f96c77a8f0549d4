package depot.coordinator;

import depot.protocol.DepotException;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;

import java.util.Comparator;
import java.util.List;
import java.util.Locale;
import java.util.function.Function;
import java.util.function.ToLongFunction;

/**
 * How a file list is cut for display: a name filter ({@code q}), a sort key ({@code name}, {@code size},
 * {@code depositedAt}, {@code replicas}), an order, and a page ({@code offset}, {@code limit}).
 */
record FileListing(String query, String sort, boolean descending, int offset, int limit) {
  private static final List<String> SORT_KEYS = List.of("name", "size", "depositedAt", "replicas");

  /** One page of records and how many files matched in all. */
  record Page(JsonArray files, int total) {}

  static FileListing from(JsonObject req) {
    int offset = req.getInteger("offset", 0);
    int limit = req.getInteger("limit", Integer.MAX_VALUE);
    if (offset < 0 || limit < 1) {
      throw DepotException.badRequest("offset must be >= 0 and limit >= 1");
    }
    String sort = req.getString("sort", "name");
    if (!SORT_KEYS.contains(sort)) {
      throw DepotException.badRequest("sort must be one of " + String.join(", ", SORT_KEYS));
    }
    return new FileListing(req.getString("q"), sort, "desc".equalsIgnoreCase(req.getString("order", "asc")),
        offset, limit);
  }

  /** Filters and sorts the entries themselves and builds records only for the page: 100,000 files stay quick. */
  Page apply(List<FileEntry> files, ToLongFunction<FileEntry> sizeOf, Function<FileEntry, JsonObject> toRecord) {
    String q = query == null || query.isBlank() ? null : query.toLowerCase(Locale.ROOT);
    List<FileEntry> matching = q == null ? files
        : files.stream().filter(f -> f.name.toLowerCase(Locale.ROOT).contains(q)).toList();
    Comparator<FileEntry> order = switch (sort) {
      case "size" -> Comparator.comparingLong(sizeOf);
      case "depositedAt" -> Comparator.comparingLong(FileEntry::depositedAtNanos);
      case "replicas" -> Comparator.comparingInt((FileEntry f) -> f.replicas);
      default -> Comparator.comparing((FileEntry f) -> f.name);
    };
    order = order.thenComparing(f -> f.name).thenComparing(f -> f.owner);
    JsonArray page = new JsonArray();
    matching.stream().sorted(descending ? order.reversed() : order).skip(offset).limit(limit)
        .map(toRecord).forEach(page::add);
    return new Page(page, matching.size());
  }

}
