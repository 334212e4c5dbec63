package io.interchange.mapping;

import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.JsonMappingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.MapperFeature;
import com.fasterxml.jackson.databind.cfg.CoercionAction;
import com.fasterxml.jackson.databind.cfg.CoercionInputShape;
import com.fasterxml.jackson.databind.type.LogicalType;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.json.JsonMapper;
import com.schibsted.spt.data.jslt.Expression;
import com.schibsted.spt.data.jslt.JsltException;

import java.util.stream.Collectors;

/** One compiled mapping: a JSLT expression from a file in {@code mappings/}, applied to JSON. Thread-safe. */
public final class Mapping {

    /**
     * Strict, with no coercion at all: a field the canonical model lacks, a fraction where minor units go (refused, not
     * truncated), a number or boolean where an id or text goes: each is an error naming the field.
     */
    static final ObjectMapper STRICT = JsonMapper.builder()
            .enable(DeserializationFeature.FAIL_ON_UNKNOWN_PROPERTIES)
            .enable(DeserializationFeature.FAIL_ON_NULL_FOR_PRIMITIVES)
            .disable(MapperFeature.ALLOW_COERCION_OF_SCALARS)
            .disable(DeserializationFeature.ACCEPT_FLOAT_AS_INT)
            .withCoercionConfig(LogicalType.Textual, c -> c
                    .setCoercion(CoercionInputShape.Integer, CoercionAction.Fail)
                    .setCoercion(CoercionInputShape.Float, CoercionAction.Fail)
                    .setCoercion(CoercionInputShape.Boolean, CoercionAction.Fail))
            .build();

    private final String id;
    private final Expression expression;

    Mapping(String id, Expression expression) {
        this.id = id;
        this.expression = expression;
    }

    public String id() {
        return id;
    }

    /** Applies the mapping; {@code record} names the input (event id) in errors. */
    public JsonNode apply(JsonNode input, String record) {
        try {
            return expression.apply(input);
        } catch (MappingFunctions.MissingField e) {
            throw new MappingException(file(), e.field, record, "missing required field", null);
        } catch (MappingFunctions.WrongType e) {
            throw new MappingException(file(), e.field, record, e.getMessage(), null);
        } catch (JsltException e) {
            Throwable cause = e.getCause();
            if (cause instanceof MappingFunctions.MissingField mf) {
                throw new MappingException(file(), mf.field, record, "missing required field", null);
            }
            if (cause instanceof MappingFunctions.WrongType wt) {
                throw new MappingException(file(), wt.field, record, wt.getMessage(), null);
            }
            throw new MappingException(file(), null, record, e.getMessage(), e);
        } catch (RuntimeException e) {
            throw new MappingException(file(), null, record, String.valueOf(e.getMessage()), e);
        }
    }

    /** Applies the mapping and binds the result strictly to a canonical type. */
    public <T> T apply(JsonNode input, Class<T> type, String record) {
        return bind(apply(input, record), type, record);
    }

    /** Binds a result of {@link #apply(JsonNode, String)} strictly to a canonical type (the mapping is not run again). */
    public <T> T bind(JsonNode out, Class<T> type, String record) {
        try {
            return STRICT.treeToValue(out, type);
        } catch (JsonMappingException e) {
            String field = e.getPath().stream()
                    .map(r -> r.getFieldName() != null ? r.getFieldName() : "[" + r.getIndex() + "]")
                    .collect(Collectors.joining(".")).replace(".[", "[");
            String message = String.valueOf(e.getOriginalMessage())
                    .replaceAll("\\s*\\(but (could|might) if coercion[^)]*\\)", "");
            throw new MappingException(file(), field.isEmpty() ? null : field, record,
                    "result does not fit " + type.getSimpleName() + ": " + message, e);
        } catch (Exception e) {
            throw new MappingException(file(), null, record, e.getMessage(), e);
        }
    }

    private String file() {
        return id + ".jslt";
    }
}
