package depot.gateway;

import depot.protocol.DepotException;
import depot.protocol.SignedLinks;
import org.junit.jupiter.api.Test;

import java.time.Instant;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class ClientCredentialsTest {
  static SignedLinks clusterKey(String secret) {
    return SignedLinks.load(null, secret).result();
  }

  @Test
  void oneKeyStandsForOneClientUnderOneClusterKey() {
    SignedLinks cluster = clusterKey("cluster-secret-1");
    String key = "0b8f2c1e-5d6a-4e3b-9c7d-1a2b3c4d5e6f";
    ClientCredentials.Issued first = ClientCredentials.forKey(cluster, key);
    assertEquals(first, ClientCredentials.forKey(clusterKey("cluster-secret-1"), key), "any gateway of the cluster");
    assertTrue(first.clientId().matches("[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}"), first.clientId());
    assertEquals(43, first.token().length(), "256 bits, URL-safe Base64, like a random token");

    ClientCredentials.Issued other = ClientCredentials.forKey(cluster, key + "x");
    assertNotEquals(first.clientId(), other.clientId());
    assertNotEquals(first.token(), other.token());
    assertNotEquals(first.token(), ClientCredentials.forKey(clusterKey("cluster-secret-2"), key).token(),
        "the token cannot be computed without the cluster's key");
  }

  @Test
  void malformedKeysAreRefused() {
    SignedLinks cluster = clusterKey("cluster-secret-1");
    for (String bad : new String[] {"", "short", "has space in it here", "x".repeat(129), "nul\u0000in-the-middle-of-it"}) {
      assertThrows(DepotException.class, () -> ClientCredentials.forKey(cluster, bad), bad);
    }
  }

  @Test
  void aKeyIsAnsweredAgainOnlyWithinTheWindow() {
    Instant created = Instant.parse("2026-12-02T10:00:00Z");
    assertTrue(ClientCredentials.replayable(created.toString(), created.plusSeconds(1)));
    assertTrue(ClientCredentials.replayable(created.toString(), created.plus(ClientCredentials.REPLAY_WINDOW)));
    assertFalse(ClientCredentials.replayable(created.toString(), created.plus(ClientCredentials.REPLAY_WINDOW).plusSeconds(1)));
    assertFalse(ClientCredentials.replayable(null, created), "a client registered before dates were kept");
    assertFalse(ClientCredentials.replayable("yesterday", created));
  }
}
