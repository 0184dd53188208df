//! From bounded state to the diagnosis: groups, patterns, blast radius, stop
//! rules and the one decision, in the precedence order of DESIGN.md §4.

use super::*;

/// Rules whose failures mean the source app wrote a value of the wrong type
/// or format that the CRM rightly refuses (text into a number, a malformed
/// date): fix the rule in the source app. Picklists, required and unknown
/// fields are mapping problems: remap.
pub(super) fn is_value_rule(rule: &str) -> bool {
    matches!(
        rule,
        "salesforce.type_mismatch" | "hubspot.invalid_date" | "hubspot.number_format"
    )
}

/// A used-up daily API allowance: nothing goes through until it resets,
/// and smaller batches would only spend more calls.
fn is_daily_quota(g: &Group) -> bool {
    if g.rule.as_deref() == Some("hubspot.rate_limit_daily") {
        return true;
    }
    let text = g.example.to_ascii_lowercase();
    [
        "totalrequests",
        "daily limit",
        "daily api",
        "per day",
        "per 24",
        "api calls limit",
        "number of api calls exceeded",
        "credits limit",
    ]
    .iter()
    .any(|w| text.contains(w))
}

/// Codes that report the consequence of another failure, not a cause.
pub(super) fn is_side_effect_code(code: &str) -> bool {
    matches!(
        code,
        "ALL_OR_NONE_OPERATION_ROLLED_BACK" | "PROCESSING_HALTED" | "HTTP 412" | "BATCH_REJECTED"
    )
}

const FIFTEEN_MIN_MS: i64 = 15 * 60 * 1000;
const HOUR_MS: i64 = 60 * 60 * 1000;
/// The seed's small-batch threshold: "fewer than 20 records".
const LOW_VOLUME: u64 = 20;

pub(super) fn finish(a: &Analyzer<'_>, ctx: &Context) -> Diagnosis {
    let (records_seen, records_failed, readback_records, estimated) = a.record_counts();
    let approximate =
        estimated || a.records_overflow || a.batches_overflow || a.overflow_groups > 0;

    // Records seen per object, for promoting record-level errors.
    let object_failures = |o: &str| a.objects.get(o).map_or(0, |s| s.failures);

    // Records that failed only as the consequence of another's failure (an
    // all-or-none rollback) would have moved: they do not widen the cause.
    let rolled_back: u64 = a
        .groups
        .iter()
        .filter(|g| g.side_effect)
        .map(|g| g.distinct.count())
        .sum();
    let cause_records_failed = if records_failed == 0 {
        0
    } else {
        records_failed.saturating_sub(rolled_back).max(1)
    };
    let others_moved = a.ok_writes > 0 || rolled_back > 0;

    // Groups, promoted where a record-level error repeats across the job.
    // Largest first; ties in the order first seen (files in the order given).
    let mut groups: Vec<&Group> = a.groups.iter().collect();
    groups.sort_by_key(|g| std::cmp::Reverse(g.count));
    let mut layers = a.layers.clone();
    let mut group_layers: Vec<Layer> = Vec::with_capacity(groups.len());
    for g in &groups {
        let distinct = g.distinct.count();
        // "If one field fails on several records, inspect mapping and data
        // type rules": a field-level error (too long, not an email) on three
        // or more records is the mapping's; without a field, only when it
        // hits most records.
        let promote = g.layer == Layer::Record
            && distinct >= 3
            && (!g.fields.is_empty()
                || distinct * 2 >= records_seen.max(1)
                || g.objects.iter().any(|o| {
                    g.count * 2 >= object_failures(o).max(1) && distinct * 2 >= records_seen.max(1)
                }));
        // And the other way: a mapping error on the one record that failed,
        // while the rest moved through the same mapping, is that record's
        // data ("if one record fails and the rest move, inspect the record").
        let demote = g.layer == Layer::Mapping
            && distinct == 1
            && cause_records_failed == 1
            && records_seen >= 2
            && others_moved;
        if promote {
            layers.add(Layer::Record, 0);
            layers.record -= g.count.min(layers.record);
            layers.mapping += g.count;
            group_layers.push(Layer::Mapping);
        } else if demote {
            layers.mapping -= g.count.min(layers.mapping);
            layers.record += g.count;
            group_layers.push(Layer::Record);
        } else {
            group_layers.push(g.layer);
        }
    }
    let causes: Vec<(usize, &Group)> = groups
        .iter()
        .enumerate()
        .filter(|(_, g)| !g.side_effect)
        .map(|(i, g)| (i, *g))
        .collect();
    let layer_of = |i: usize| group_layers[i];

    // Live layers: failures not healed by a later success.
    let mut live = [false; 7];
    for st in a.records.values() {
        if st.has(RecState::LAST_FAILED)
            && let Some(l) = st.last_layer()
        {
            live[l as usize] = true;
        }
    }
    if a.last_auth_failure_seq > a.last_ok_write_seq {
        live[Layer::Auth as usize] = true;
    }
    for (i, g) in &causes {
        if g.distinct.count() == 0 {
            // No record keys: judge by layer counts alone.
            live[layer_of(*i) as usize] = true;
        }
    }
    // Promoted groups are live as mapping when their records are still failing.
    for (i, g) in &causes {
        if layer_of(*i) == Layer::Mapping
            && g.layer == Layer::Record
            && live[Layer::Record as usize]
        {
            live[Layer::Mapping as usize] = true;
        }
    }
    // Demoted groups are live as record when their record is still failing.
    for (i, g) in &causes {
        if layer_of(*i) == Layer::Record
            && g.layer == Layer::Mapping
            && live[Layer::Mapping as usize]
        {
            live[Layer::Record as usize] = true;
        }
    }
    let cause_layers: Vec<Layer> = causes.iter().map(|(i, _)| layer_of(*i)).collect();
    let checklist = [
        Layer::Auth,
        Layer::Mapping,
        Layer::Transport,
        Layer::Workflow,
        Layer::Dedupe,
        Layer::Record,
    ];
    let has = |l: Layer| cause_layers.contains(&l);
    let primary_layer = checklist
        .into_iter()
        .find(|&l| has(l) && live[l as usize])
        .or_else(|| checklist.into_iter().find(|&l| has(l)))
        .unwrap_or(Layer::Unknown);
    let failures = a.failures();

    // Fields failing on several records (mapping-level).
    let mut field_list: Vec<(&String, &NameStats)> = a.fields.iter().collect();
    field_list.sort_by(|x, y| y.1.failures.cmp(&x.1.failures).then(x.0.cmp(y.0)));
    let two_record_fields: Vec<(&String, &NameStats)> = field_list
        .iter()
        .filter(|(_, s)| {
            s.records.len() >= 2
                && s.layers
                    .iter()
                    .any(|l| matches!(l, Layer::Mapping | Layer::Record))
        })
        .copied()
        .collect();
    let mapping_fields: Vec<&String> = two_record_fields
        .iter()
        .filter(|(f, _)| {
            causes
                .iter()
                .any(|(i, g)| layer_of(*i) == Layer::Mapping && g.fields.iter().any(|gf| gf == *f))
        })
        .map(|(f, _)| *f)
        .collect();

    // Reruns.
    let runs_seen = a.runs.len() as u64;
    let reruns = a
        .records
        .values()
        .filter(|s| s.runs() >= 2 || (s.attempts() >= 2 && s.has(RecState::FIRST_RUN_NONE)))
        .count() as u64;

    // ---- patterns ----
    let mut patterns: Vec<Pattern> = Vec::new();
    let writes_moved = a.ok_writes > 0;
    if failures > 0 {
        let auth_breaks_all =
            has(Layer::Auth) && (!writes_moved || a.last_auth_failure_seq > a.last_ok_write_seq);
        // Nothing moved and every failure is the same unexplained one.
        let all_fail_alike = !writes_moved
            && failures >= 2
            && mapping_fields.is_empty()
            && !cause_layers.is_empty()
            && cause_layers.iter().all(|l| *l == Layer::Unknown);
        if auth_breaks_all || all_fail_alike {
            add(&mut patterns, Pattern::AllObjectsFail);
        }
        if !mapping_fields.is_empty() {
            add(&mut patterns, Pattern::FieldAcrossRecords);
        }
        if has(Layer::Transport) {
            let before = a.ok_writes_before_first_transport.unwrap_or(0);
            if before > 0 && (a.transport_failures >= 2 || a.ok_writes_after_first_transport == 0) {
                add(&mut patterns, Pattern::StartsThenTimesOut);
            }
        }
        if has(Layer::Workflow) {
            add(&mut patterns, Pattern::LandsThenChanges);
        }
        let dedupe_grows = {
            let mut by_order: Vec<&RunStats> = a.runs.values().collect();
            by_order.sort_by_key(|r| r.order);
            by_order.len() >= 2
                && by_order.last().map_or(0, |r| r.dedupe_failures)
                    > by_order.first().map_or(0, |r| r.dedupe_failures)
        };
        if has(Layer::Dedupe)
            || !a.id_shifts.is_empty()
            || !a.duplicate_creates.is_empty()
            || dedupe_grows
        {
            add(&mut patterns, Pattern::DuplicatesAfterReruns);
        }
        if patterns.is_empty()
            && cause_records_failed == 1
            && records_seen >= 2
            && matches!(primary_layer, Layer::Record | Layer::Unknown)
        {
            add(&mut patterns, Pattern::IsolatedRecord);
        }
        // Every other layer still failing adds its own row of the table.
        for layer in checklist {
            if layer == Layer::Record && !patterns.is_empty() {
                continue;
            }
            if has(layer)
                && live[layer as usize]
                && !patterns.iter().any(|p| p.layer() == Some(layer))
            {
                add(&mut patterns, row_for(layer));
            }
        }
        if patterns.is_empty() {
            // No shape of its own: the primary layer's row of the table.
            add(
                &mut patterns,
                match primary_layer {
                    Layer::Auth => Pattern::AllObjectsFail,
                    Layer::Mapping => Pattern::FieldAcrossRecords,
                    Layer::Transport => Pattern::StartsThenTimesOut,
                    Layer::Workflow => Pattern::LandsThenChanges,
                    Layer::Dedupe => Pattern::DuplicatesAfterReruns,
                    Layer::Record => Pattern::IsolatedRecord,
                    Layer::Unknown if !writes_moved => Pattern::AllObjectsFail,
                    Layer::Unknown if records_failed <= 1 => Pattern::IsolatedRecord,
                    Layer::Unknown => Pattern::Mixed,
                },
            );
        }
    }
    let pattern = match patterns.len() {
        0 => Pattern::None,
        1 => patterns[0],
        _ => Pattern::Mixed,
    };

    // ---- blast radius ----
    let objects_failed: Vec<String> = {
        let mut v: Vec<(&String, &NameStats)> =
            a.objects.iter().filter(|(_, s)| s.failures > 0).collect();
        v.sort_by(|x, y| y.1.failures.cmp(&x.1.failures).then(x.0.cmp(y.0)));
        v.into_iter().map(|(k, _)| k.clone()).collect()
    };
    let objects_seen = a.objects.len() as u64;
    let fields_failed: Vec<String> = field_list
        .iter()
        .take(20)
        .map(|(f, _)| (*f).clone())
        .collect();
    let scope = if failures == 0 {
        Scope::None
    } else if primary_layer == Layer::Auth && pattern_is(&patterns, Pattern::AllObjectsFail) {
        Scope::AllObjects
    } else if cause_records_failed == 1 && records_seen >= 1 {
        Scope::SingleRecord
    } else if mapping_fields.len() == 1
        && field_list
            .iter()
            .filter(|(_, s)| s.records.len() >= 2)
            .count()
            == 1
    {
        Scope::SingleField
    } else if objects_failed.len() >= 2
        || (!writes_moved
            && records_failed >= 2
            && matches!(primary_layer, Layer::Auth | Layer::Unknown))
    {
        Scope::AllObjects
    } else {
        Scope::SingleObject
    };
    let blast_radius = BlastRadius {
        scope,
        records_failed,
        records_seen,
        fields: fields_failed,
        objects_failed: objects_failed.clone(),
        objects_seen,
        runs: runs_seen,
        reruns,
        approximate,
    };

    // ---- stop rules ----
    let mut stop_rules: Vec<StopRule> = Vec::new();
    let mut rule = |id: StopRuleId, tripped: bool, detail: String, mut evidence: Vec<String>| {
        // One place cited once (a batch's first write and first failure
        // can be the same HAR entry or response line).
        let mut seen = std::collections::HashSet::new();
        evidence.retain(|e| seen.insert(e.clone()));
        stop_rules.push(StopRule {
            id,
            tripped,
            rule: id.rule(),
            detail,
            evidence,
        });
    };

    rule(
        StopRuleId::ReconnectFailedOnce,
        !a.reconnect_failed.is_empty(),
        if a.reconnect_failed.is_empty() {
            "no failed reconnect in the logs".into()
        } else {
            format!(
                "{} reconnect or token refresh attempt(s) failed",
                a.reconnect_failed.len()
            )
        },
        origins(&a.reconnect_failed),
    );

    let same_field = two_record_fields.first();
    rule(
        StopRuleId::SameFieldTwoRecords,
        same_field.is_some(),
        match same_field {
            Some((f, s)) => format!("field {f} failed on {} records", s.records.len()),
            None => "no field failed on 2 different records".into(),
        },
        same_field
            .and_then(|(f, _)| {
                groups
                    .iter()
                    .find(|g| g.fields.iter().any(|x| x == *f))
                    .map(|g| origins(&g.evidence))
            })
            .unwrap_or_default(),
    );

    rule(
        StopRuleId::SmallerBatchFailed,
        a.smaller_batch_failed.is_some(),
        match &a.smaller_batch_failed {
            Some((big, _, small, _)) => {
                format!("a batch of {big} failed, then a smaller batch of {small} failed too")
            }
            None => "no smaller batch failed after a larger one".into(),
        },
        a.smaller_batch_failed
            .as_ref()
            .map(|(_, o1, _, o2)| vec![o1.to_string(), o2.to_string()])
            .unwrap_or_default(),
    );

    let every_rewrite = a
        .rewrites_by_rule
        .iter()
        .filter(|(_, (d, _))| readback_records > 0 && d.count() >= readback_records)
        .max_by_key(|(_, (d, _))| d.count());
    rule(
        StopRuleId::RuleRewritesEveryTestRecord,
        every_rewrite.is_some(),
        match every_rewrite {
            Some((by, (d, _))) => format!(
                "{by} rewrote all {} record(s) read back after the write",
                d.count()
            ),
            None if a.readbacks == 0 => "no readback of test records in the logs".into(),
            None => "no single rule rewrote every record read back".into(),
        },
        every_rewrite
            .map(|(_, (_, o))| origins(o))
            .unwrap_or_default(),
    );

    rule(
        StopRuleId::IdSourceShifted,
        !a.id_shifts.is_empty(),
        if a.id_shifts.is_empty() {
            "each CRM record kept one source key".into()
        } else {
            "the same CRM record arrived under different source keys".into()
        },
        origins(&a.id_shifts),
    );

    let identical = causes.iter().find(|(_, g)| g.count >= 3).map(|(_, g)| *g);
    rule(
        StopRuleId::ThreeIdenticalFailures,
        identical.is_some(),
        match identical {
            Some(g) => format!(
                "the same failure happened {} times: {}",
                g.count,
                short(&g.signature)
            ),
            None => "no failure repeated 3 times".into(),
        },
        identical
            .map(|g| origins(&g.evidence[..g.evidence.len().min(3)]))
            .unwrap_or_default(),
    );

    let minutes = ctx.minutes_spent;
    // Time spent that the logs cannot show is the user's word, and the
    // failure it was spent on is in the logs.
    let spent_evidence = |m: u32| {
        std::iter::once(format!("--minutes-spent {m}"))
            .chain(causes.first().map(|(_, g)| g.first.0.to_string()))
            .collect::<Vec<_>>()
    };
    let persistent = causes.iter().find(|(_, g)| {
        let span = match (g.min_ts, g.max_ts) {
            (Some(x), Some(y)) => y - x,
            _ => 0,
        };
        span >= FIFTEEN_MIN_MS && (g.runs.len() >= 2 || g.max_attempt >= 2)
    });
    let fifteen = persistent.is_some() || (minutes.is_some_and(|m| m >= 15) && failures > 0);
    rule(
        StopRuleId::FifteenMinutesSameError,
        fifteen,
        match (persistent, minutes) {
            (Some((_, g)), _) => format!(
                "the same failure came back across {} runs or attempts over {} minutes",
                g.runs.len().max(g.max_attempt as usize),
                (g.max_ts.unwrap_or(0) - g.min_ts.unwrap_or(0)) / 60_000
            ),
            (None, Some(m)) if m >= 15 && failures > 0 => {
                format!("{m} minutes already spent and the failures persist")
            }
            _ => "no error has persisted 15 minutes across fixes".into(),
        },
        match (persistent, minutes) {
            (Some((_, g)), _) => vec![g.first.0.to_string(), g.last.0.to_string()],
            (None, Some(m)) if fifteen => spent_evidence(m),
            _ => Vec::new(),
        },
    );

    // Repair time the logs show: from the first failure to the last, when
    // the failures span more than one run (someone kept trying).
    let log_span_ms = match (a.failure_min_ts, a.failure_max_ts) {
        (Some((x, _)), Some((y, _))) if a.runs_with_failures.len() >= 2 => y - x,
        _ => 0,
    };
    let hour_spent = minutes.is_some_and(|m| m >= 60) || log_span_ms >= HOUR_MS;
    let low_volume = records_failed < LOW_VOLUME && failures > 0;
    rule(
        StopRuleId::HourOnLowVolume,
        hour_spent && low_volume,
        if hour_spent && low_volume {
            format!(
                "over an hour of repair ({} minutes) on {records_failed} failed record(s)",
                minutes.map_or(log_span_ms / 60_000, i64::from)
            )
        } else if hour_spent {
            format!("over an hour spent, but {records_failed} records failed: not low volume")
        } else {
            "less than an hour spent so far".into()
        },
        match (minutes, a.failure_min_ts, a.failure_max_ts) {
            _ if !(hour_spent && low_volume) => Vec::new(),
            (Some(m), _, _) if m >= 60 => spent_evidence(m),
            (_, Some((_, first)), Some((_, last))) => vec![
                a.origin_at(first).to_string(),
                a.origin_at(last).to_string(),
            ],
            _ => Vec::new(),
        },
    );

    rule(
        StopRuleId::RevenueRecordsAffected,
        !a.revenue_failures.is_empty(),
        if a.revenue_failures.is_empty() {
            "no billing, contract or pipeline records failed".into()
        } else {
            let rev: Vec<&String> = objects_failed
                .iter()
                .filter(|o| a.critical.iter().any(|c| *c == object_key(o)))
                .collect();
            format!(
                "failures on revenue objects: {}",
                rev.iter()
                    .map(|s| s.as_str())
                    .collect::<Vec<_>>()
                    .join(", ")
            )
        },
        origins(&a.revenue_failures),
    );

    let partial_batch: Vec<&BatchStats> = a
        .batches
        .values()
        .filter(|b| b.ok > 0 && b.failed > 0)
        .collect();
    let partial_evidence: Vec<String> = a
        .partial_events
        .iter()
        .map(Origin::to_string)
        .chain(partial_batch.iter().take(EXAMPLES).flat_map(|b| {
            [b.first_ok, b.first_failure]
                .into_iter()
                .filter(|at| at.line > 0)
                .map(|at| a.origin_at(at).to_string())
        }))
        .take(EXAMPLES * 2)
        .collect();
    let partial = !a.partial_events.is_empty() || !partial_batch.is_empty();
    rule(
        StopRuleId::PartialWrites,
        partial,
        if partial {
            format!(
                "{} batch(es) were written partly: some records landed, others failed",
                partial_batch
                    .len()
                    .max(usize::from(!a.partial_events.is_empty()))
            )
        } else {
            "no batch was written partly".into()
        },
        partial_evidence,
    );
    let tripped = |id: StopRuleId| stop_rules.iter().any(|r| r.id == id && r.tripped);

    // ---- decision ----
    let primary_groups: Vec<&Group> = causes
        .iter()
        .filter(|(i, _)| layer_of(*i) == primary_layer)
        .map(|(_, g)| *g)
        .collect();
    let top = primary_groups
        .first()
        .copied()
        .or_else(|| causes.first().map(|(_, g)| *g));
    let evidence_top: Vec<String> = top.map(|g| origins(&g.evidence)).unwrap_or_default();
    let test_record = top.and_then(|g| g.records.first().cloned());
    let transient_blip = primary_layer == Layer::Transport
        && a.transport_failures <= 1
        && primary_groups.iter().all(|g| g.transient)
        && !partial;

    let mut batch_size = None;
    let mut delay_seconds = None;
    let (action, reason, evidence): (Action, String, Vec<String>) = if failures == 0 {
        (
            Action::None,
            "No record failed and no record was changed after it was written.".into(),
            Vec::new(),
        )
    } else if tripped(StopRuleId::ReconnectFailedOnce) {
        (
            Action::Escalate,
            "A reconnect already failed once. The seed's rule: stop and escalate instead of reconnecting again.".into(),
            origins(&a.reconnect_failed),
        )
    } else if tripped(StopRuleId::HourOnLowVolume) {
        // Past the hour the 15-minute escalation is behind the team: the
        // seed's later cutoff says what to do with the day.
        (
            Action::ManualFallback,
            format!(
                "Over an hour has gone into a failure that touches only {records_failed} record(s): processing them by hand today beats another round of guessing, while the real fix is traced."
            ),
            stop_rules
                .iter()
                .find(|r| r.id == StopRuleId::HourOnLowVolume)
                .map(|r| r.evidence.clone())
                .unwrap_or_default(),
        )
    } else if tripped(StopRuleId::FifteenMinutesSameError) {
        (
            Action::Escalate,
            "The same error is still there after 15 minutes of fixes: pause and escalate, so the team stops looping on one issue.".into(),
            stop_rules.iter().find(|r| r.id == StopRuleId::FifteenMinutesSameError).map(|r| r.evidence.clone()).unwrap_or_default(),
        )
    } else if tripped(StopRuleId::RevenueRecordsAffected) && !a.revenue_nonblip.is_empty() {
        (
            Action::ManualFallback,
            "Billing, contract or pipeline records are failing for a reason a retry will not fix: stop automation and enter them by hand to protect the audit trail and revenue data.".into(),
            origins(&a.revenue_nonblip),
        )
    } else if ctx.no_owner() && primary_layer != Layer::Auth && !transient_blip {
        (
            Action::ManualFallback,
            "No one owns this integration: document the failure, switch to the manual fallback for today, and assign one owner before anyone repairs the sync, so two people do not change two systems at once.".into(),
            evidence_top.clone(),
        )
    } else {
        match primary_layer {
            Layer::Auth => (
                Action::Reconnect,
                format!("The CRM refused the connection itself ({}). A credential problem breaks across records and objects; no data change will help until the account is reconnected.", top.map_or("auth error".into(), |g| g.title.clone())),
                evidence_top.clone(),
            ),
            Layer::Mapping => {
                let at_source = !primary_groups.is_empty() && primary_groups.iter().all(|g| g.fix_at_source);
                let fields = if mapping_fields.is_empty() {
                    top.map(|g| g.fields.join(", ")).unwrap_or_default()
                } else {
                    mapping_fields.iter().map(|f| f.as_str()).collect::<Vec<_>>().join(", ")
                };
                let what = if fields.is_empty() { String::new() } else { format!(" ({fields})") };
                if at_source {
                    (
                        Action::FixSource,
                        format!("The CRM's rule is right and the source app writes values it cannot accept{what}. Fix the value rule in the source app first, not the CRM."),
                        evidence_top.clone(),
                    )
                } else {
                    (
                        Action::Remap,
                        format!("The data does not fit the CRM's fields{what}: a mapping or schema problem, so every record built by this mapping will fail the same way. Retrying repeats the defect."),
                        evidence_top.clone(),
                    )
                }
            }
            Layer::Transport => {
                if tripped(StopRuleId::SmallerBatchFailed) {
                    (
                        Action::InspectTransport,
                        "A smaller batch failed too, so batch size is not the cause: stop and inspect the transport (network, API limits, queue timing).".into(),
                        stop_rules.iter().find(|r| r.id == StopRuleId::SmallerBatchFailed).map(|r| r.evidence.clone()).unwrap_or_default(),
                    )
                } else if primary_groups.first().is_some_and(|g| is_daily_quota(g)) {
                    (
                        Action::InspectTransport,
                        "The CRM's daily API allowance is used up: nothing more goes through until it resets, and smaller batches would only spend more calls. Stop the sync until the reset, then check it fits inside the daily limit (fewer, larger calls; the bulk API for big loads).".into(),
                        evidence_top.clone(),
                    )
                } else if transient_blip {
                    (
                        Action::RetryOnce,
                        "A single transient transport error and no partial writes: one retry can succeed.".into(),
                        evidence_top.clone(),
                    )
                } else {
                    let current = a.max_batch_size.unwrap_or(100);
                    batch_size = Some((current / 2).max(1));
                    delay_seconds = Some(a.max_retry_after.unwrap_or(if a.crm_seen == Some(Crm::Hubspot) { 10 } else { 60 }).max(1));
                    (
                        Action::ReduceBatch,
                        format!(
                            "The sync moved records, then timeouts, rate limits or server errors took over: reduce the batch size to {} and wait {} seconds before the next batch.",
                            batch_size.unwrap_or(1),
                            delay_seconds.unwrap_or(60)
                        ),
                        evidence_top.clone(),
                    )
                }
            }
            Layer::Workflow => {
                if tripped(StopRuleId::RuleRewritesEveryTestRecord) {
                    (
                        Action::ManualFallback,
                        "The same rule rewrote every test record: freezing and retesting will not settle it today, so switch to the manual fallback.".into(),
                        stop_rules.iter().find(|r| r.id == StopRuleId::RuleRewritesEveryTestRecord).map(|r| r.evidence.clone()).unwrap_or_default(),
                    )
                } else {
                    (
                        Action::FreezeAutomations,
                        "The CRM's own automation rejects or rewrites records after they are sent: freeze it and review its logic before sending more.".into(),
                        evidence_top.clone(),
                    )
                }
            }
            Layer::Dedupe => (
                Action::ReconcileKeys,
                "Duplicates, or a record key that is not unique or stable: pause retries and reconcile the key before any rerun.".into(),
                if a.id_shifts.is_empty() { evidence_top.clone() } else { origins(&a.id_shifts) },
            ),
            Layer::Record => (
                Action::FixRecord,
                format!(
                    "{} failed while the rest moved: the record's own data is the problem, not the setup.",
                    if records_failed == 1 { "One record".to_owned() } else { format!("{records_failed} records") }
                ),
                evidence_top.clone(),
            ),
            Layer::Unknown => {
                if tripped(StopRuleId::ThreeIdenticalFailures) {
                    (
                        Action::ReviewLogs,
                        "The same unexplained failure happened 3 times: stop retrying and switch to log review (the CRM's audit trail and the source app's log).".into(),
                        stop_rules.iter().find(|r| r.id == StopRuleId::ThreeIdenticalFailures).map(|r| r.evidence.clone()).unwrap_or_default(),
                    )
                } else {
                    (
                        Action::Escalate,
                        "The logs do not show field-level detail, so the layer cannot be told: escalate instead of editing blindly.".into(),
                        evidence_top.clone(),
                    )
                }
            }
        }
    };
    let decision_layer = primary_layer;

    let mut forbidden = Vec::new();
    if tripped(StopRuleId::ThreeIdenticalFailures)
        || tripped(StopRuleId::SameFieldTwoRecords)
        || tripped(StopRuleId::PartialWrites)
    {
        forbidden.push("no more retries of the failed records until the cause is fixed".to_owned());
    }
    if tripped(StopRuleId::IdSourceShifted)
        || tripped(StopRuleId::PartialWrites)
        || tripped(StopRuleId::SameFieldTwoRecords)
    {
        forbidden.push("no full rerun of the batch".to_owned());
    }
    if tripped(StopRuleId::ReconnectFailedOnce) {
        forbidden.push("no second reconnect".to_owned());
    }
    if tripped(StopRuleId::SmallerBatchFailed) {
        forbidden.push("no further batch-size changes".to_owned());
    }

    // A stop rule forbids moves; it does not replace the fix for the layer.
    let layer_fix = matches!(
        action,
        Action::Escalate | Action::ManualFallback | Action::ReviewLogs
    )
    .then(|| {
        top.filter(|_| primary_layer != Layer::Unknown)
            .map(|g| g.fix.clone())
    })
    .flatten();
    let then = then_steps(
        action,
        ctx,
        a.direction_seen,
        test_record.as_deref(),
        partial,
        tripped(StopRuleId::IdSourceShifted),
        layer_fix,
    );

    let mut groups_out: Vec<GroupReport> = groups
        .iter()
        .zip(group_layers.iter())
        .map(|(g, &layer)| GroupReport {
            signature: g.signature.clone(),
            layer,
            code: g.code.clone(),
            fields: g.fields.clone(),
            objects: g.objects.clone(),
            count: g.count,
            distinct_records: g.distinct.count(),
            records: g.records.clone(),
            first_seen: seen(&g.first),
            last_seen: seen(&g.last),
            transient: g.transient,
            rule: g.rule.clone(),
            title: if layer != g.layer {
                format!(
                    "{} (on {} records: the mapping, not one record)",
                    g.title,
                    g.distinct.count()
                )
            } else {
                g.title.clone()
            },
            fix: g.fix.clone(),
            side_effect: g.side_effect,
            evidence: origins(&g.evidence),
            example: g.example.clone(),
        })
        .collect();
    groups_out.truncate(200);

    let mut problems = a.problems.clone();
    if a.problems_total > a.problems.len() as u64 {
        problems.push(format!(
            "... and {} more",
            a.problems_total - a.problems.len() as u64
        ));
    }
    if a.overflow_groups > 0 {
        problems.push(format!(
            "{} failures had signatures beyond the first {MAX_GROUPS} distinct ones; they are counted but not grouped",
            a.overflow_groups
        ));
    }

    Diagnosis {
        events: a.counts.clone(),
        primary_layer: (failures > 0).then_some(primary_layer),
        layers,
        pattern,
        patterns,
        blast_radius,
        groups: groups_out,
        stop_rules,
        decision: Decision {
            action,
            layer: decision_layer,
            reason,
            evidence,
            then,
            forbidden,
            batch_size,
            delay_seconds,
            test_record,
        },
        context: ContextReport {
            direction: ctx.direction.or(a.direction_seen).map(|d| match d {
                Direction::SourceToCrm => "source_to_crm".into(),
                Direction::CrmToSource => "crm_to_source".into(),
                Direction::Bi => "bi".into(),
            }),
            owner: ctx.named_owner().map(str::to_owned),
            critical_objects: a.critical.clone(),
            minutes_spent: ctx.minutes_spent,
            crm: ctx.crm.or(a.crm_seen).map(|c| c.as_str().to_owned()),
        },
        problems,
        approximate,
    }
}

/// The seed table's row for a layer.
fn row_for(layer: Layer) -> Pattern {
    match layer {
        Layer::Auth => Pattern::AllObjectsFail,
        Layer::Mapping => Pattern::FieldAcrossRecords,
        Layer::Transport => Pattern::StartsThenTimesOut,
        Layer::Workflow => Pattern::LandsThenChanges,
        Layer::Dedupe => Pattern::DuplicatesAfterReruns,
        Layer::Record | Layer::Unknown => Pattern::IsolatedRecord,
    }
}

fn add(patterns: &mut Vec<Pattern>, p: Pattern) {
    if !patterns.contains(&p) {
        patterns.push(p);
    }
}

fn pattern_is(patterns: &[Pattern], p: Pattern) -> bool {
    patterns.contains(&p)
}

fn short(s: &str) -> String {
    if s.chars().count() > 120 {
        format!("{}...", s.chars().take(117).collect::<String>())
    } else {
        s.to_owned()
    }
}

/// What comes after the move, in the seed's order: pause writes, fix one
/// layer, test one record, rerun only the clean set, with one owner.
fn then_steps(
    action: Action,
    ctx: &Context,
    direction_seen: Option<Direction>,
    test_record: Option<&str>,
    partial: bool,
    id_shifted: bool,
    layer_fix: Option<String>,
) -> Vec<String> {
    if action == Action::None {
        return vec!["Keep the sync running; nothing to repair.".into()];
    }
    let mut steps = Vec::new();
    match ctx.named_owner() {
        Some(owner) => steps.push(format!("{owner} owns this repair; one person changes one system at a time.")),
        None if ctx.no_owner() => steps.push("Document the failure (the error text, the time, the records) and assign one owner before anyone changes anything: two people changing two systems at once is how this gets worse.".into()),
        None => steps.push("Name one owner for this repair before anyone changes anything; document the failure so two people do not change two systems at once.".into()),
    }
    if ctx.direction.or(direction_seen) == Some(Direction::Bi) {
        steps.push("The sync runs both ways: freeze writes in one direction first and inspect that direction alone.".into());
    }
    steps.push("Pause the writes that depend on the sync so no record is changed twice.".into());
    if partial {
        steps.push("Put the partly written records in the review queue: confirm their ids, values and duplicate status before anything else touches them.".into());
    }
    match action {
        Action::Escalate => steps.push("Hand the exact error text, timestamps and these log lines to whoever owns the CRM connection or the vendor's support.".into()),
        Action::ReviewLogs => steps.push("Compare the CRM's audit trail with the source app's log for the failing records to find where the failure starts.".into()),
        Action::ManualFallback => steps.push("Process today's records by hand (export the review queue in the CRM's import format), and return to the root cause with one set of logs.".into()),
        _ => {}
    }
    if let Some(fix) = layer_fix {
        steps.push(format!(
            "The cause still needs its own fix, as a scheduled repair: {fix}"
        ));
    }
    let test = match test_record {
        Some(r) => format!(
            "Test one record first (for example {r}), read it back, and check it landed unchanged."
        ),
        None => "Test one record first, read it back, and check it landed unchanged.".into(),
    };
    if !matches!(action, Action::Escalate | Action::ManualFallback) {
        steps.push(test);
    }
    if id_shifted {
        steps.push("Do not rerun the full batch: rerun only records whose key is confirmed stable, using upserts on that key.".into());
    } else if !matches!(action, Action::Escalate | Action::ManualFallback) {
        steps.push("Then rerun only the clean set (the failed records once fixed), with upserts on a stable key; never the whole batch.".into());
    }
    steps.push(
        "Stop after 3 identical failures or 15 minutes, and switch to log review or escalation."
            .into(),
    );
    steps
}
