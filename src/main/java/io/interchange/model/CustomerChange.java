package io.interchange.model;

import java.util.List;
import java.util.Map;

/**
 * Canonical change of a customer record in a CRM, version 1: a contact (a person) or a company was created, changed
 * (one property, with its new value, or several at once), deleted, restored or merged. Carried as it was announced: a
 * webhook names what changed, not the whole record, so a property's value is the one the change set (null where the CRM
 * sent none). Where the CRM could not announce a change (its events were lost or incomplete), the record as read back
 * from the CRM is carried instead, marked by {@code origin}.
 *
 * @param customer        who the record is: until records are linked to global customer ids the global id is the CRM
 *                        record's own ({@code hubspot:<account>:<object type>:<record id>})
 * @param objectType      {@code contact} or {@code company}
 * @param objectId        the record's id in the CRM
 * @param account         the CRM account (HubSpot portal, Salesforce org) the record lives in
 * @param change          {@code created}, {@code property-changed}, {@code updated} (several fields at once, named in
 *                        {@code changedFields}), {@code deleted}, {@code privacy-deleted}, {@code restored} or
 *                        {@code merged}
 * @param property        the property a {@code property-changed} names
 * @param value           its new value as the CRM sent it (text; null if none was sent)
 * @param occurredAt      when the change happened in the CRM (ISO-8601, UTC, milliseconds)
 * @param changeSource    what the CRM says caused it (e.g. {@code CRM_UI}, {@code IMPORT}, {@code INTEGRATION})
 * @param sourceId        who or what caused it, as the CRM identifies it (e.g. {@code userId:45678})
 * @param primaryObjectId of a merge: the record that remains
 * @param mergedObjectIds of a merge: the records merged into it
 * @param newObjectId     of a merge: the record the merge created, if it created one
 * @param changedFields   of an {@code updated}: the fields the change set (Salesforce's names), absent if unknown
 * @param values          field values as the CRM sent or holds them (Salesforce's names and JSON values); fields the
 *                        CRM did not send, or sent as null, are absent (a field an update cleared is named in
 *                        {@code changedFields} and absent here)
 * @param origin          how the change was learnt: {@code event} (the CRM announced it), {@code gap} (the CRM announced
 *                        that records changed without saying how; they were read back) or {@code backfill} (the CRM's
 *                        announcements were lost; records changed since were read back); absent for webhooks
 */
public record CustomerChange(CustomerRef customer, String objectType, String objectId, String account, String change,
                             String property, String value, String occurredAt, String changeSource, String sourceId,
                             String primaryObjectId, List<String> mergedObjectIds, String newObjectId,
                             List<String> changedFields, Map<String, Object> values, String origin) {
}
