package depot.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;

import io.vertx.core.json.JsonObject;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.List;
import org.junit.jupiter.api.Test;

/** The small pure helpers: hashes, header parsing, time display, error messages, record parsing. */
class FormatsTest {
  private static final String EMPTY_SHA = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";

  @Test
  void sha256OfStreamsAndHeaders() throws Exception {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    Sha256.Copied copied = Sha256.copy(new ByteArrayInputStream("abc".getBytes()), out, n -> { });
    assertEquals("ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad", copied.sha256());
    assertEquals(3, copied.bytes());
    assertEquals("abc", out.toString());

    assertEquals(EMPTY_SHA, Sha256.fromHeader(EMPTY_SHA));
    assertEquals(EMPTY_SHA, Sha256.fromHeader("\"" + EMPTY_SHA + "\""));
    assertEquals(EMPTY_SHA, Sha256.fromHeader("W/\"" + EMPTY_SHA.toUpperCase() + "\""));
    assertNull(Sha256.fromHeader("\"v3\""));
    assertNull(Sha256.fromHeader(null));
  }

  @Test
  void agoIsShortAndReadable() {
    Instant now = Instant.parse("2025-01-01T12:00:00Z");
    assertEquals("1.2s ago", TimeFormat.ago(now.minusMillis(1200), now));
    assertEquals("0.0s ago", TimeFormat.ago(now.plusSeconds(2), now)); // server clock slightly ahead
    assertEquals("3m05s ago", TimeFormat.ago(now.minusSeconds(185), now));
    assertEquals("2h07m ago", TimeFormat.ago(now.minusSeconds(2 * 3600 + 7 * 60), now));
    assertEquals("3d04h ago", TimeFormat.ago(now.minusSeconds(3 * 86400 + 4 * 3600), now));
    assertEquals("never", TimeFormat.ago(TimeFormat.parse(null), now));
  }

  @Test
  void timestampsAreParsedLeniently() {
    assertEquals(Instant.parse("2025-01-01T12:00:00Z"), TimeFormat.parse("2025-01-01T12:00:00Z"));
    assertEquals(Instant.parse("2025-01-01T12:00:00Z"), TimeFormat.parse("2025-01-01T14:00:00+02:00"));
    assertEquals(Instant.ofEpochMilli(1_700_000_000_000L), TimeFormat.parse(1_700_000_000_000L));
    assertEquals("2025-01-01 12:00:00", TimeFormat.local("2025-01-01T12:00:00.123Z", ZoneOffset.UTC));
    assertEquals("yesterday", TimeFormat.local("yesterday", ZoneOffset.UTC));
    assertEquals("-", TimeFormat.local(null, ZoneOffset.UTC));
  }

  @Test
  void errorMessagesComeFromTheServerWhenItSaysSomething() {
    assertEquals("no file named x", ApiClient.errorMessage(404, "{\"error\":\"not_found\",\"message\":\"no file named x\"}"));
    assertEquals("bad token", ApiClient.errorMessage(401, "{\"error\":\"bad token\"}"));
    assertEquals("nested", ApiClient.errorMessage(400, "{\"error\":{\"message\":\"nested\"}}"));
    assertEquals("two lines", ApiClient.errorMessage(400, "{\"message\":\"two\\n  lines\"}"));
    assertEquals("Service Unavailable", ApiClient.errorMessage(503, "Service Unavailable\n"));
    assertEquals("server answered HTTP 502 (server unavailable)", ApiClient.errorMessage(502, "<html>bad gateway</html>"));
    assertEquals("server answered HTTP 404 (not found)", ApiClient.errorMessage(404, ""));
  }

  @Test
  void fileRecordsAreReadLeniently() {
    FileRecord flat = FileRecord.fromJson(new JsonObject("""
        {"name":"a.txt","size":10,"sha256":"%s","version":2,"desiredReplicas":3,"liveReplicas":2,
         "nodes":["n1","n2"],"depositedAt":"2025-01-01T00:00:00Z"}""".formatted(EMPTY_SHA)));
    assertEquals("a.txt", flat.name());
    assertEquals(10, flat.size());
    assertEquals("e3b0c44298fc", flat.shortSha());
    assertEquals("2/3", flat.replicasText());
    assertEquals("2", flat.versionText());
    assertEquals(List.of("n1", "n2"), flat.nodes());

    FileRecord nested = FileRecord.fromJson(new JsonObject("""
        {"name":"b","replicas":{"live":1,"desired":2},"nodes":[{"id":"n9"}]}"""));
    assertEquals("1/2", nested.replicasText());
    assertEquals(List.of("n9"), nested.nodes());
    assertEquals("?", nested.versionText());

    FileRecord countFromNodes = FileRecord.fromJson(new JsonObject("{\"replicas\":3,\"nodes\":[\"x\"]}"));
    assertEquals("1/3", countFromNodes.replicasText());
  }

  @Test
  void tableAlignsColumns() {
    ByteArrayOutputStream bytes = new ByteArrayOutputStream();
    new Table("NAME", "SIZE").alignRight(1).row("a", "1 B").row("longer", "10.0 KiB")
        .print(new java.io.PrintStream(bytes, true));
    assertEquals("""
        NAME        SIZE
        a            1 B
        longer  10.0 KiB
        """, bytes.toString());
  }
}
