package io.interchange.mapping;

/**
 * A mapping could not produce a valid object. Names the mapping file, the field and the record, so whoever
 * fixes the input or the mapping knows where to look. Permanent: retrying the same input fails the same way.
 */
public class MappingException extends RuntimeException {

    private final String mapping;
    private final String field;
    private final String record;
    private final String reason;

    public MappingException(String mapping, String field, String record, String reason, Throwable cause) {
        super("mapping " + mapping + (field == null ? "" : ", field " + field)
                + (record == null ? "" : ", record " + record) + ": " + reason, cause);
        this.mapping = mapping;
        this.field = field;
        this.record = record;
        this.reason = reason;
    }

    public String mapping() {
        return mapping;
    }

    public String field() {
        return field;
    }

    public String record() {
        return record;
    }

    /** The reason alone, without the mapping's name: what an outside sender is told. */
    public String reason() {
        return field == null ? reason : reason + " (" + field + ")";
    }
}
