package depot.coordinator;

import depot.protocol.DepotException;
import depot.protocol.ErrorCode;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import java.util.ArrayList;
import java.util.Collections;
import java.util.Comparator;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.function.Function;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class FileListingTest {
  final Map<String, Long> sizes = new HashMap<>();
  final List<FileEntry> files = new ArrayList<>();

  /** What the coordinator's record() gives, reduced to what the listing uses. */
  final Function<FileEntry, JsonObject> toRecord = f -> new JsonObject().put("name", f.name).put("owner", f.owner)
      .put("size", sizes.get(f.key())).put("replicas", f.replicas).put("depositedAt", f.depositedAt())
      .put("version", f.version);

  FileEntry add(String owner, String name, long size, int replicas, String depositedAt) {
    FileEntry f = new FileEntry(owner, name);
    f.blobId = "blob-" + name;
    f.version = 1;
    f.replicas = replicas;
    f.depositedAt(depositedAt);
    sizes.put(f.key(), size);
    files.add(f);
    return f;
  }

  void sample() {
    add("o1", "report.pdf", 5000, 3, "2024-03-01T10:00:00Z");
    add("o1", "Readme.md", 10, 1, "2024-01-15T08:00:00Z");
    add("o1", "photo.JPG", 250_000, 2, "2024-02-20T12:30:00Z");
    add("o1", "notes.txt", 300, 5, "2024-04-01T00:00:00Z");
    add("o1", "archive.zip", 9_000_000, 4, "2023-12-31T23:59:59Z");
    add("o1", "QUARTERLY REPORT.xlsx", 42_000, 2, "2024-03-02T09:00:00Z");
    Collections.shuffle(files, new Random(1));
  }

  FileListing.Page list(JsonObject req) {
    return FileListing.from(req).apply(files, f -> sizes.get(f.key()), toRecord);
  }

  static List<String> names(JsonArray page) {
    return page.stream().map(o -> ((JsonObject) o).getString("name")).toList();
  }

  @Test
  void defaultsListEverythingByName() {
    sample();
    FileListing l = FileListing.from(new JsonObject());
    assertEquals("name", l.sort());
    assertEquals(0, l.offset());
    assertEquals(Integer.MAX_VALUE, l.limit());
    FileListing.Page page = l.apply(files, f -> sizes.get(f.key()), toRecord);
    assertEquals(6, page.total());
    assertEquals(List.of("QUARTERLY REPORT.xlsx", "Readme.md", "archive.zip", "notes.txt", "photo.JPG", "report.pdf"),
        names(page.files()), "plain (code point) name order");
  }

  @Test
  void filterIsACaseInsensitiveSubstring() {
    sample();
    FileListing.Page page = list(new JsonObject().put("q", "REPORT"));
    assertEquals(2, page.total());
    assertEquals(List.of("QUARTERLY REPORT.xlsx", "report.pdf"), names(page.files()));
    assertEquals(List.of("photo.JPG"), names(list(new JsonObject().put("q", ".jpg")).files()));
    assertEquals(List.of("Readme.md"), names(list(new JsonObject().put("q", "rEaDmE")).files()));
    FileListing.Page none = list(new JsonObject().put("q", "nothing-like-this"));
    assertEquals(0, none.total());
    assertTrue(none.files().isEmpty());
  }

  @Test
  void blankFilterMatchesEverything() {
    sample();
    assertEquals(6, list(new JsonObject().put("q", "")).total());
    assertEquals(6, list(new JsonObject().put("q", "   ")).total());
  }

  @Test
  void filterWithUnicode() {
    add("o1", "Ärger.txt", 1, 1, "2024-01-01T00:00:00Z");
    add("o1", "résumé.doc", 1, 1, "2024-01-01T00:00:00Z");
    assertEquals(List.of("Ärger.txt"), names(list(new JsonObject().put("q", "ärg")).files()));
    assertEquals(List.of("résumé.doc"), names(list(new JsonObject().put("q", "RÉSUMÉ")).files()));
  }

  @Test
  void sortByNameAscDesc() {
    sample();
    List<String> asc = names(list(new JsonObject().put("sort", "name").put("order", "asc")).files());
    List<String> desc = names(list(new JsonObject().put("sort", "name").put("order", "desc")).files());
    List<String> expected = files.stream().map(f -> f.name).sorted().toList();
    assertEquals(expected, asc);
    List<String> reversed = new ArrayList<>(expected);
    Collections.reverse(reversed);
    assertEquals(reversed, desc);
  }

  @Test
  void sortBySize() {
    sample();
    assertEquals(List.of("Readme.md", "notes.txt", "report.pdf", "QUARTERLY REPORT.xlsx", "photo.JPG", "archive.zip"),
        names(list(new JsonObject().put("sort", "size")).files()));
    assertEquals(List.of("archive.zip", "photo.JPG", "QUARTERLY REPORT.xlsx", "report.pdf", "notes.txt", "Readme.md"),
        names(list(new JsonObject().put("sort", "size").put("order", "desc")).files()));
  }

  @Test
  void sortByDepositedAt() {
    sample();
    assertEquals(List.of("archive.zip", "Readme.md", "photo.JPG", "report.pdf", "QUARTERLY REPORT.xlsx", "notes.txt"),
        names(list(new JsonObject().put("sort", "depositedAt")).files()));
    assertEquals(List.of("notes.txt", "QUARTERLY REPORT.xlsx", "report.pdf", "photo.JPG", "Readme.md", "archive.zip"),
        names(list(new JsonObject().put("sort", "depositedAt").put("order", "DESC")).files()));
  }

  /** By time, not by text: "…:00Z" sorted after "…:00.500Z" as a string ('Z' > '.'), though it is earlier. */
  @Test
  void sortByDepositedAtFollowsTimeWhateverTheFractionDigits() {
    add("o1", "later.txt", 1, 1, "2024-01-01T00:00:00.500Z");
    add("o1", "earlier.txt", 1, 1, "2024-01-01T00:00:00Z");
    add("o1", "between.txt", 1, 1, "2024-01-01T00:00:00.000001Z");
    assertEquals(List.of("earlier.txt", "between.txt", "later.txt"),
        names(list(new JsonObject().put("sort", "depositedAt")).files()));
  }

  /** The deposit time is kept as a number yet reads back as the very text the journal carried. */
  @Test
  void depositTimeReadsBackAsItsText() {
    for (String at : List.of("2026-12-02T21:00:00Z", "2026-12-02T21:00:00.123Z", "2026-12-02T21:00:00.123456Z",
        "2026-12-02T21:00:00.123456789Z", "1969-07-20T20:17:40Z")) {
      assertEquals(at, add("o9", "f", 1, 1, at).depositedAt());
    }
    FileEntry unknown = new FileEntry("o9", "g");
    unknown.depositedAt(null);
    assertEquals(null, unknown.depositedAt());
  }

  @Test
  void sortByReplicasWithTiesBrokenByName() {
    sample();
    // photo.JPG and QUARTERLY REPORT.xlsx both have 2 replicas
    assertEquals(List.of("Readme.md", "QUARTERLY REPORT.xlsx", "photo.JPG", "report.pdf", "archive.zip", "notes.txt"),
        names(list(new JsonObject().put("sort", "replicas")).files()));
    List<String> desc = names(list(new JsonObject().put("sort", "replicas").put("order", "desc")).files());
    assertEquals("notes.txt", desc.get(0));
    assertEquals("Readme.md", desc.get(5));
    assertEquals(List.of(5, 4, 3, 2, 2, 1), list(new JsonObject().put("sort", "replicas").put("order", "desc")).files()
        .stream().map(o -> ((JsonObject) o).getInteger("replicas")).toList());
  }

  @Test
  void unknownOrderMeansAscending() {
    sample();
    assertEquals(names(list(new JsonObject().put("sort", "size")).files()),
        names(list(new JsonObject().put("sort", "size").put("order", "sideways")).files()));
  }

  @Test
  void sameNameOfDifferentOwnersIsOrderedByOwner() {
    add("o2", "same.txt", 1, 1, "2024-01-01T00:00:00Z");
    add("o1", "same.txt", 1, 1, "2024-01-01T00:00:00Z");
    add("o3", "same.txt", 1, 1, "2024-01-01T00:00:00Z");
    JsonArray page = list(new JsonObject()).files();
    assertEquals(List.of("o1", "o2", "o3"), page.stream().map(o -> ((JsonObject) o).getString("owner")).toList());
  }

  @Test
  void pagingCutsTheSortedList() {
    sample();
    List<String> all = names(list(new JsonObject().put("sort", "size")).files());
    FileListing.Page p1 = list(new JsonObject().put("sort", "size").put("offset", 0).put("limit", 2));
    FileListing.Page p2 = list(new JsonObject().put("sort", "size").put("offset", 2).put("limit", 2));
    FileListing.Page p3 = list(new JsonObject().put("sort", "size").put("offset", 4).put("limit", 2));
    assertEquals(all.subList(0, 2), names(p1.files()));
    assertEquals(all.subList(2, 4), names(p2.files()));
    assertEquals(all.subList(4, 6), names(p3.files()));
    assertEquals(6, p1.total());
    assertEquals(6, p3.total());
    FileListing.Page past = list(new JsonObject().put("offset", 100).put("limit", 10));
    assertTrue(past.files().isEmpty());
    assertEquals(6, past.total(), "total counts every match, not the page");
    assertEquals(all.subList(5, 6), names(list(new JsonObject().put("sort", "size").put("offset", 5)).files()));
  }

  @Test
  void pagingAppliesAfterFilterAndTotalCountsMatches() {
    sample();
    FileListing.Page page = list(new JsonObject().put("q", "e").put("offset", 1).put("limit", 2).put("sort", "name"));
    List<String> matching = files.stream().map(f -> f.name).filter(n -> n.toLowerCase().contains("e")).sorted().toList();
    assertEquals(matching.size(), page.total());
    assertEquals(matching.subList(1, 3), names(page.files()));
  }

  @Test
  void manyFilesPageThroughWithoutGapsOrRepeats() {
    for (int i = 0; i < 1000; i++) {
      add("o" + (i % 3), String.format("f-%04d", (i * 7919) % 1000), i % 17, 1 + i % 4, String.format("2024-01-01T00:00:%02dZ", i % 60));
    }
    List<JsonObject> seen = new ArrayList<>();
    for (int offset = 0; offset < 1000; offset += 64) {
      FileListing.Page p = list(new JsonObject().put("sort", "replicas").put("order", "desc").put("offset", offset)
          .put("limit", 64));
      assertEquals(1000, p.total());
      p.files().forEach(o -> seen.add((JsonObject) o));
    }
    assertEquals(1000, seen.size());
    assertEquals(1000, seen.stream().map(r -> r.getString("owner") + "/" + r.getString("name")).distinct().count());
    List<JsonObject> sorted = new ArrayList<>(seen);
    sorted.sort(Comparator.comparingInt((JsonObject r) -> r.getInteger("replicas")).reversed());
    assertEquals(sorted.stream().map(r -> r.getInteger("replicas")).toList(),
        seen.stream().map(r -> r.getInteger("replicas")).toList());
  }

  @Test
  void emptyList() {
    FileListing.Page page = list(new JsonObject().put("q", "x").put("sort", "size"));
    assertEquals(0, page.total());
    assertTrue(page.files().isEmpty());
  }

  @ParameterizedTest
  @ValueSource(strings = {"bogus", "Name", "SIZE", "", "owner", "sha256", "version"})
  void badSortIsABadRequest(String sort) {
    DepotException e = assertThrows(DepotException.class, () -> FileListing.from(new JsonObject().put("sort", sort)));
    assertEquals(ErrorCode.BAD_REQUEST, e.code());
    assertTrue(e.getMessage().contains("name"), e.getMessage());
  }

  @Test
  void badPagingIsABadRequest() {
    assertEquals(ErrorCode.BAD_REQUEST, assertThrows(DepotException.class,
        () -> FileListing.from(new JsonObject().put("offset", -1))).code());
    assertEquals(ErrorCode.BAD_REQUEST, assertThrows(DepotException.class,
        () -> FileListing.from(new JsonObject().put("limit", 0))).code());
    assertEquals(ErrorCode.BAD_REQUEST, assertThrows(DepotException.class,
        () -> FileListing.from(new JsonObject().put("limit", -5))).code());
  }
}
