package depot.launcher;

import depot.config.DepotConfig;
import io.vertx.core.json.JsonObject;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class NodeLauncherTest {
  @TempDir
  Path tmp;

  @Test
  void readsTheConfFromAFileOrInlineInEitherSpelling() throws Exception {
    Path conf = Files.writeString(tmp.resolve("storage.json"), "{\"roles\": [\"storage\"], \"httpPort\": 0}");
    assertEquals(new JsonObject("{\"roles\": [\"storage\"], \"httpPort\": 0}"),
        NodeLauncher.readConf(new String[] {"-cluster", "-conf", conf.toString()}));
    assertEquals(new JsonObject().put("httpPort", 9), NodeLauncher.readConf(new String[] {"--conf={\"httpPort\": 9}"}));
    assertEquals(new JsonObject(), NodeLauncher.readConf(new String[] {"-cluster"}));
  }

  @Test
  void refusesAConfThatIsNoJsonObjectInsteadOfStartingWithoutIt() throws Exception {
    Path array = Files.writeString(tmp.resolve("array.json"), "[1, 2]");
    Path broken = Files.writeString(tmp.resolve("broken.json"), "{\"roles\": [");
    assertRefused("-conf " + tmp.resolve("missing.json") + ": no such file", "-conf", tmp.resolve("missing.json").toString());
    assertRefused("-conf " + array + ": it must hold one JSON object, {...}", "-conf", array.toString());
    assertTrue(refusal("-conf", broken.toString()).startsWith("-conf " + broken + ": not a JSON object: "));
    assertTrue(refusal("-conf", "{\"roles\": [").startsWith("-conf {\"roles\": [: not a valid JSON object: "));
    assertRefused("-conf needs a value: a JSON file or a JSON object", "-cluster", "-conf");
    // The Vert.x options are checked too, though only -conf becomes Depot's settings.
    assertRefused("-options nope.json: no such file", "-conf", "{}", "-options", "nope.json");
  }

  @Test
  void settingsComeFromTheConfUnderTheEnvironmentAndRefusalsAreOneLine() {
    DepotConfig settings = NodeLauncher.settings(new JsonObject().put("nativeTransport", false), "10.0.0.7");
    assertFalse(settings.nativeTransport(), "the conf's nativeTransport reaches the Vert.x options");
    assertEquals("10.0.0.7", settings.advertisedHost());
    assertEquals("10.0.0.9", NodeLauncher.settings(new JsonObject().put("advertisedHost", "10.0.0.9"), "10.0.0.7")
        .advertisedHost());
    NodeLauncher.BadSetting e = assertThrows(NodeLauncher.BadSetting.class,
        () -> NodeLauncher.settings(new JsonObject().put("httpPort", -5), null));
    assertEquals("ports must be between 0 and 65535", e.getMessage());
    assertEquals(0, e.getStackTrace().length, "printed as one line, never as a trace");
  }

  private static void assertRefused(String message, String... args) {
    assertEquals(message, refusal(args));
  }

  private static String refusal(String... args) {
    return assertThrows(NodeLauncher.BadSetting.class, () -> NodeLauncher.readConf(args)).getMessage();
  }
}
