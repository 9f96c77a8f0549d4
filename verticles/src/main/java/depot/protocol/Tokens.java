package depot.protocol;

import depot.storage.StreamDigest;

import java.nio.charset.StandardCharsets;
import java.security.SecureRandom;
import java.util.Base64;
import java.util.HexFormat;

/** Client tokens are stored only as SHA-256 hashes: a stolen catalog does not give access. */
public final class Tokens {
  private static final SecureRandom RANDOM = new SecureRandom();

  private Tokens() {}

  /** A new bearer token: 256 random bits, URL-safe Base64. */
  public static String newToken() {
    byte[] secret = new byte[32];
    RANDOM.nextBytes(secret);
    return Base64.getUrlEncoder().withoutPadding().encodeToString(secret);
  }

  public static String hash(String token) {
    return HexFormat.of().formatHex(StreamDigest.newSha256().digest(token.getBytes(StandardCharsets.UTF_8)));
  }
}
