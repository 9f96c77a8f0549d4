package depot.storage;

import depot.protocol.DepotException;
import io.vertx.core.buffer.Buffer;

import java.util.ArrayList;
import java.util.HashSet;
import java.util.HexFormat;
import java.util.List;
import java.util.Set;
import java.util.UUID;

/**
 * Several small replicas in one request body, so that a burst of small deposits for the same pipeline crosses
 * each hop once, not once per file. Each entry: blob id (16 bytes, a UUID), size (4 bytes), a flag byte (1
 * when a SHA-256 follows), the announced SHA-256 (32 bytes, only with the flag), then the content.
 */
public final class BlobBatch {
  /** A batch holds at most this many replicas ... */
  public static final int MAX_ENTRIES = 64;
  /** ... and at most this many bytes of body, framing included ... */
  public static final int MAX_BYTES = 1024 * 1024;
  /**
   * ... and no replica over this size (the default small-blob limit). Every batched replica goes to a pack,
   * whatever the receiving node's own small-blob limit, so nodes configured apart still agree on a batch.
   */
  public static final int MAX_ENTRY_BYTES = 256 * 1024;
  private static final int ENTRY_HEADER = 16 + 4 + 1;
  private static final int SHA256_BYTES = 32;

  /** One replica of a batch; {@code announcedSha256} is null when the client announced none. */
  public record Entry(String blobId, String announcedSha256, Buffer data) {}

  private BlobBatch() {}

  /** The bytes an entry of {@code size} bytes takes in a batch. */
  public static int framedSize(long size, boolean withSha256) {
    return (int) (ENTRY_HEADER + (withSha256 ? SHA256_BYTES : 0) + size);
  }

  public static Buffer encode(List<Entry> entries) {
    int total = 0;
    for (Entry e : entries) {
      total += framedSize(e.data().length(), e.announcedSha256() != null);
    }
    Buffer out = Buffer.buffer(total);
    for (Entry e : entries) {
      UUID id = UUID.fromString(e.blobId());
      out.appendLong(id.getMostSignificantBits()).appendLong(id.getLeastSignificantBits())
          .appendInt(e.data().length());
      if (e.announcedSha256() != null) {
        out.appendByte((byte) 1).appendBytes(HexFormat.of().parseHex(e.announcedSha256()));
      } else {
        out.appendByte((byte) 0);
      }
      out.appendBuffer(e.data());
    }
    return out;
  }

  /**
   * Reads a batch; anything malformed (a cut entry, a size over {@link #MAX_ENTRY_BYTES}, a blob id twice,
   * too many entries) is the sender's error and nothing of the batch is taken.
   */
  public static List<Entry> decode(Buffer body) {
    List<Entry> entries = new ArrayList<>();
    Set<String> ids = new HashSet<>();
    int pos = 0;
    while (pos < body.length()) {
      if (entries.size() == MAX_ENTRIES) {
        throw DepotException.badRequest("a batch holds at most " + MAX_ENTRIES + " replicas");
      }
      if (body.length() - pos < ENTRY_HEADER) {
        throw DepotException.badRequest("batch entry " + entries.size() + " is cut short");
      }
      String blobId = new UUID(body.getLong(pos), body.getLong(pos + 8)).toString();
      int size = body.getInt(pos + 16);
      byte flag = body.getByte(pos + 20);
      pos += ENTRY_HEADER;
      if (size < 0 || size > MAX_ENTRY_BYTES) {
        throw DepotException.badRequest("batch entry " + blobId + " is " + size + " bytes; at most "
            + MAX_ENTRY_BYTES + " are batched");
      }
      if (flag != 0 && flag != 1) {
        throw DepotException.badRequest("batch entry " + blobId + " has a malformed flag");
      }
      String sha256 = null;
      if (flag == 1) {
        if (body.length() - pos < SHA256_BYTES) {
          throw DepotException.badRequest("batch entry " + blobId + " is cut short");
        }
        sha256 = HexFormat.of().formatHex(body.getBytes(pos, pos + SHA256_BYTES));
        pos += SHA256_BYTES;
      }
      if (body.length() - pos < size) {
        throw DepotException.badRequest("batch entry " + blobId + " is cut short");
      }
      if (!ids.add(blobId)) {
        throw DepotException.badRequest("blob " + blobId + " appears twice in one batch");
      }
      entries.add(new Entry(blobId, sha256, body.slice(pos, pos + size)));
      pos += size;
    }
    return entries;
  }
}
