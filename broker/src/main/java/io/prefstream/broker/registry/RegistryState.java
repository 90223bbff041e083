package io.prefstream.broker.registry;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.TreeMap;
import org.apache.avro.Schema;
import org.apache.avro.SchemaParseException;

/**
 * What the registry knows: schemas by global id, each subject's versions, the compatibility levels.
 * Rebuilt from the {@code _schemas} log on start by {@link #apply}; every change is first written to
 * the log, then applied, so the log alone decides what survives a restart. Not thread-safe: the
 * server serialises calls.
 */
final class RegistryState {
  /** One version of a subject. */
  record Version(String subject, int version, int id, Schema schema) {}

  private final Map<Integer, Schema> schemasById = new HashMap<>();
  private final Map<String, List<Version>> subjects = new TreeMap<>();
  private final Map<String, Compatibility> levels = new HashMap<>();
  private Compatibility globalLevel = Compatibility.BACKWARD;

  void apply(Version v) {
    schemasById.putIfAbsent(v.id(), v.schema());
    List<Version> versions = subjects.computeIfAbsent(v.subject(), s -> new ArrayList<>());
    if (versions.stream().noneMatch(old -> old.version() == v.version())) versions.add(v);
  }

  void applyLevel(String subject, Compatibility level) {
    if (subject == null) globalLevel = level;
    else levels.put(subject, level);
  }

  static Schema parse(String schema) {
    try {
      return new Schema.Parser().parse(schema);
    } catch (SchemaParseException | NullPointerException e) {
      throw new RegistryError(422, 42201, "Invalid schema: " + e.getMessage());
    }
  }

  /** The version under which the subject already holds this schema, if it does. */
  Optional<Version> find(String subject, Schema schema) {
    return subjects.getOrDefault(subject, List.of()).stream().filter(v -> v.schema().equals(schema)).findFirst();
  }

  /**
   * The version registering the schema would add (not yet applied), or the existing one: an
   * identical schema keeps its global id across subjects, as in Confluent's registry.
   */
  Version next(String subject, Schema schema) {
    Optional<Version> existing = find(subject, schema);
    if (existing.isPresent()) return existing.get();
    if (!isCompatible(subject, schema, "latest")) {
      throw new RegistryError(409, 409, "Schema being registered is incompatible with an earlier schema for subject '" + subject
          + "' (compatibility " + level(subject) + ")");
    }
    int id = schemasById.entrySet().stream().filter(e -> e.getValue().equals(schema)).map(Map.Entry::getKey).findFirst()
        .orElse(schemasById.keySet().stream().mapToInt(Integer::intValue).max().orElse(0) + 1);
    List<Version> versions = subjects.getOrDefault(subject, List.of());
    int version = versions.isEmpty() ? 1 : versions.get(versions.size() - 1).version() + 1;
    return new Version(subject, version, id, schema);
  }

  Schema byId(int id) {
    Schema schema = schemasById.get(id);
    if (schema == null) throw RegistryError.schemaNotFound("id " + id);
    return schema;
  }

  List<String> subjects() {
    return List.copyOf(subjects.keySet());
  }

  List<Version> versions(String subject) {
    List<Version> versions = subjects.get(subject);
    if (versions == null || versions.isEmpty()) throw RegistryError.subjectNotFound(subject);
    return List.copyOf(versions);
  }

  /** @param version a number or "latest" */
  Version version(String subject, String version) {
    List<Version> versions = versions(subject);
    if (version.equals("latest") || version.equals("-1")) return versions.get(versions.size() - 1);
    int n;
    try {
      n = Integer.parseInt(version);
    } catch (NumberFormatException e) {
      throw new RegistryError(422, 42202, "Invalid version '" + version + "': a positive number or 'latest'");
    }
    return versions.stream().filter(v -> v.version() == n).findFirst().orElseThrow(() -> RegistryError.versionNotFound(subject, version));
  }

  /** Whether the schema may follow the given version ("latest": all of them, as the level says). */
  boolean isCompatible(String subject, Schema schema, String version) {
    List<Version> versions = subjects.getOrDefault(subject, List.of());
    if (versions.isEmpty()) return true;
    List<Schema> earlier = version.equals("latest")
        ? versions.stream().map(Version::schema).toList()
        : List.of(version(subject, version).schema());
    return level(subject).allows(schema, earlier);
  }

  Compatibility level(String subject) {
    return subject == null ? globalLevel : levels.getOrDefault(subject, globalLevel);
  }
}
