package depot.coordinator;

import depot.storage.StreamDigest;

import java.nio.charset.StandardCharsets;
import java.util.HexFormat;

/** Client tokens are stored only as SHA-256 hashes: a stolen catalog does not give access. */
final class Tokens {
  private Tokens() {}

  static String hash(String token) {
    return HexFormat.of().formatHex(StreamDigest.newSha256().digest(token.getBytes(StandardCharsets.UTF_8)));
  }
}
