package io.prefstream.schemas.serde;

import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.StreamReadConstraints;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.json.JsonMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.Base64;
import java.util.Collection;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.concurrent.ConcurrentHashMap;
import org.apache.avro.Schema;
import org.apache.avro.generic.GenericData;
import org.apache.avro.generic.GenericDatumWriter;
import org.apache.avro.generic.GenericRecord;
import org.apache.avro.generic.GenericRecordBuilder;
import org.apache.avro.io.BinaryEncoder;
import org.apache.avro.io.DecoderFactory;
import org.apache.avro.io.EncoderFactory;
import org.apache.avro.specific.SpecificDatumReader;
import org.apache.avro.specific.SpecificRecord;

/**
 * Records as plain JSON objects with the .avsc field names, for producers without Avro: optional
 * fields may be left out (their defaults apply), nullable values are written bare (not as Avro's
 * union-tagged JSON), bytes as base64.
 *
 * <p>TRL's conversational format is read too: a field whose schema names a {@code conversational}
 * field (e.g. {@code prompt} names {@code prompt_messages}) and that holds a list where text is
 * expected (one level deeper than the field's own type) fills that field instead, so {@code
 * "prompt": [{"role": "user", "content": "Hi"}]} is the prompt as messages.
 */
public final class JsonRecords {
  private static final ObjectMapper JSON = new ObjectMapper();
  /** One parser per set of limits: Jackson's constraints belong to the factory. */
  private static final Map<DecodeLimits, ObjectMapper> READERS = new ConcurrentHashMap<>();

  private JsonRecords() {}

  /**
   * Reads a JSON object into the record class within the limits (string length, nesting depth,
   * items per array or object); {@link IllegalArgumentException} names the bad field or the limit.
   */
  public static <T extends SpecificRecord> T read(byte[] json, Class<T> type, Schema schema, DecodeLimits limits) {
    JsonNode tree;
    try {
      tree = READERS.computeIfAbsent(limits, JsonRecords::reader).readTree(json);
    } catch (IOException e) {
      throw new IllegalArgumentException("not valid JSON: " + e.getMessage(), e);
    }
    if (tree == null || !tree.isObject()) throw new IllegalArgumentException("expected a JSON object");
    GenericRecord generic = (GenericRecord) value(schema, tree, schema.getName(), limits.maxCollectionItems());
    // Through Avro binary so the generated class's own reader fills it: types come out exactly as
    // from an Avro producer (String, List, Map, enums).
    try {
      ByteArrayOutputStream out = new ByteArrayOutputStream();
      BinaryEncoder encoder = EncoderFactory.get().binaryEncoder(out, null);
      new GenericDatumWriter<GenericRecord>(schema).write(generic, encoder);
      encoder.flush();
      return new SpecificDatumReader<>(type).read(null, DecoderFactory.get().binaryDecoder(out.toByteArray(), null));
    } catch (IOException | RuntimeException e) {
      throw new IllegalArgumentException("cannot build " + schema.getName() + ": " + e.getMessage(), e);
    }
  }

  private static ObjectMapper reader(DecodeLimits limits) {
    StreamReadConstraints constraints = StreamReadConstraints.builder()
        .maxStringLength(limits.maxStringBytes())
        .maxNestingDepth(limits.maxNestingDepth())
        .build();
    return JsonMapper.builder(JsonFactory.builder().streamReadConstraints(constraints).build()).build();
  }

  /** Writes the record as a JSON object. */
  public static byte[] write(SpecificRecord record) {
    try {
      return JSON.writeValueAsBytes(tree(record.getSchema(), record));
    } catch (IOException e) {
      throw new IllegalStateException("cannot write " + record.getSchema().getName() + " as JSON", e);
    }
  }

  private static Object value(Schema schema, JsonNode node, String where, int maxItems) {
    switch (schema.getType()) {
      case NULL:
        if (node == null || node.isNull()) return null;
        throw mismatch(where, "null", node);
      case UNION:
        if (node == null || node.isNull()) {
          if (schema.getTypes().stream().anyMatch(t -> t.getType() == Schema.Type.NULL)) return null;
          throw mismatch(where, "a value", node);
        }
        for (Schema branch : schema.getTypes()) {
          if (branch.getType() != Schema.Type.NULL && fits(branch, node)) return value(branch, node, where, maxItems);
        }
        throw mismatch(where, schema.getTypes().toString(), node);
      case STRING:
        if (node != null && node.isTextual()) return node.asText();
        throw mismatch(where, "a string", node);
      case INT:
        if (node != null && node.isIntegralNumber() && node.canConvertToInt()) return node.intValue();
        throw mismatch(where, "an int", node);
      case LONG:
        if (node != null && node.isIntegralNumber() && node.canConvertToLong()) return node.longValue();
        throw mismatch(where, "a long", node);
      case DOUBLE:
        if (node != null && node.isNumber()) return node.doubleValue();
        throw mismatch(where, "a number", node);
      case FLOAT:
        if (node != null && node.isNumber()) return node.floatValue();
        throw mismatch(where, "a number", node);
      case BOOLEAN:
        if (node != null && node.isBoolean()) return node.booleanValue();
        throw mismatch(where, "true or false", node);
      case BYTES:
        if (node != null && node.isTextual()) return ByteBuffer.wrap(Base64.getDecoder().decode(node.asText()));
        throw mismatch(where, "base64 text", node);
      case ENUM:
        if (node != null && node.isTextual() && schema.hasEnumSymbol(node.asText())) {
          return new GenericData.EnumSymbol(schema, node.asText());
        }
        throw mismatch(where, "one of " + schema.getEnumSymbols(), node);
      case ARRAY: {
        if (node == null || !node.isArray()) throw mismatch(where, "an array", node);
        checkItems(where, node, maxItems);
        List<Object> items = new ArrayList<>(node.size());
        for (int i = 0; i < node.size(); i++) items.add(value(schema.getElementType(), node.get(i), where + "[" + i + "]", maxItems));
        return items;
      }
      case MAP: {
        if (node == null || !node.isObject()) throw mismatch(where, "an object", node);
        checkItems(where, node, maxItems);
        Map<String, Object> map = new LinkedHashMap<>();
        node.fields().forEachRemaining(e -> map.put(e.getKey(), value(schema.getValueType(), e.getValue(), where + "." + e.getKey(), maxItems)));
        return map;
      }
      case RECORD: {
        if (node == null || !node.isObject()) throw mismatch(where, "an object", node);
        GenericRecordBuilder builder = new GenericRecordBuilder(schema);
        for (Schema.Field field : schema.getFields()) {
          JsonNode child = node.get(field.name());
          if (child == null) {
            if (!field.hasDefaultValue()) throw new IllegalArgumentException("field '" + field.name() + "' of " + where + " is required");
            continue; // the builder applies the default
          }
          Schema.Field conversational = conversationalField(schema, field, child);
          Schema.Field target = conversational != null ? conversational : field;
          builder.set(target, value(target.schema(), child, field.name(), maxItems));
        }
        return builder.build();
      }
      default:
        throw new IllegalArgumentException(where + ": Avro type " + schema.getType() + " is not supported in JSON");
    }
  }

  private static void checkItems(String where, JsonNode node, int maxItems) {
    if (node.size() > maxItems) throw new IllegalArgumentException("field '" + where + "' has " + node.size() + " items; at most " + maxItems + " allowed");
  }

  /** The field that a list sent in place of {@code field}'s text belongs in, or null. */
  private static Schema.Field conversationalField(Schema record, Schema.Field field, JsonNode child) {
    String name = field.getProp("conversational");
    if (name == null || listDepth(child) <= arrayDepth(field.schema())) return null;
    Schema.Field conversational = record.getField(name);
    if (conversational == null) throw new IllegalStateException(record.getName() + "." + field.name() + " names a missing field " + name);
    return conversational;
  }

  private static int listDepth(JsonNode node) {
    return node.isArray() ? 1 + (node.isEmpty() ? 0 : listDepth(node.get(0))) : 0;
  }

  private static int arrayDepth(Schema schema) {
    if (schema.getType() == Schema.Type.UNION) {
      return schema.getTypes().stream().mapToInt(JsonRecords::arrayDepth).max().orElse(0);
    }
    return schema.getType() == Schema.Type.ARRAY ? 1 + arrayDepth(schema.getElementType()) : 0;
  }

  private static boolean fits(Schema schema, JsonNode node) {
    return switch (schema.getType()) {
      case STRING, BYTES -> node.isTextual();
      case ENUM -> node.isTextual() && schema.hasEnumSymbol(node.asText());
      case INT -> node.isIntegralNumber() && node.canConvertToInt();
      case LONG -> node.isIntegralNumber() && node.canConvertToLong();
      case FLOAT, DOUBLE -> node.isNumber();
      case BOOLEAN -> node.isBoolean();
      case ARRAY -> node.isArray();
      case MAP, RECORD -> node.isObject();
      default -> false;
    };
  }

  private static IllegalArgumentException mismatch(String where, String expected, JsonNode node) {
    String got = node == null ? "nothing" : node.getNodeType().toString().toLowerCase() + " " + abbreviate(node.toString());
    return new IllegalArgumentException("field '" + where + "': expected " + expected + ", got " + got);
  }

  private static String abbreviate(String s) {
    return s.length() <= 40 ? s : s.substring(0, 40) + "...";
  }

  private static JsonNode tree(Schema schema, Object value) {
    JsonNodeFactory f = JsonNodeFactory.instance;
    if (value == null) return f.nullNode();
    switch (schema.getType()) {
      case UNION:
        for (Schema branch : schema.getTypes()) {
          if (branch.getType() != Schema.Type.NULL && GenericData.get().validate(branch, value)) return tree(branch, value);
        }
        return f.textNode(value.toString());
      case RECORD: {
        ObjectNode obj = f.objectNode();
        GenericRecord record = (GenericRecord) value;
        for (Schema.Field field : schema.getFields()) obj.set(field.name(), tree(field.schema(), record.get(field.pos())));
        return obj;
      }
      case ARRAY: {
        ArrayNode arr = f.arrayNode();
        for (Object item : (Collection<?>) value) arr.add(tree(schema.getElementType(), item));
        return arr;
      }
      case MAP: {
        ObjectNode obj = f.objectNode();
        ((Map<?, ?>) value).forEach((k, v) -> obj.set(Objects.toString(k), tree(schema.getValueType(), v)));
        return obj;
      }
      case BYTES: {
        ByteBuffer buf = ((ByteBuffer) value).duplicate();
        byte[] bytes = new byte[buf.remaining()];
        buf.get(bytes);
        return f.textNode(Base64.getEncoder().encodeToString(bytes));
      }
      case INT: return f.numberNode(((Number) value).intValue());
      case LONG: return f.numberNode(((Number) value).longValue());
      case FLOAT: return f.numberNode(((Number) value).floatValue());
      case DOUBLE: return f.numberNode(((Number) value).doubleValue());
      case BOOLEAN: return f.booleanNode((Boolean) value);
      default: return f.textNode(value.toString()); // strings and enum symbols
    }
  }
}
