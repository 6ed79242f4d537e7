//! The tables that migrations 22 and later added (the suppression list, leads' unsubscribe
//! tokens, campaigns and flows), children before parents. The tests and the scale bench that
//! take a store back to an older schema drop these first, then undo what their own target
//! version needs; a later migration that adds tables adds them here, once.

/// Drops every table of migrations 22 and later.
pub const DROP_TABLES_SINCE_22: &str = "
    DROP TABLE shopkeep_message_clicks;
    DROP TABLE shopkeep_sends;
    DROP TABLE shopkeep_flow_runs;
    DROP TABLE shopkeep_flow_steps;
    DROP TABLE shopkeep_flows;
    DROP TABLE shopkeep_campaigns;
    DROP TABLE shopkeep_send_policy;
    DROP TABLE shopkeep_suppressions;
    DROP TABLE shopkeep_lead_unsubscribe;";
