//! Fathers' peer groups, the discussion prompt library, help resources and the coaching path, as content
//! describes them; and the pure rules about them (prompt plan, group assignment, facilitators).
use super::lang::{Lang, Localized};
use serde::{Deserialize, Serialize};

/// `/start apua` (the button a group gets when `/apua` cannot be answered privately) shows the help resources;
/// no group or series may use this code.
pub const HELP_NOW_PAYLOAD: &str = "apua";

/// A fathers' peer group (dialogues/groups.toml).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PeerGroup {
    pub id: String,
    /// Deep-link code (`/start <code>`), also what a facilitator gives to `/linkgroup` in the real group.
    pub code: String,
    pub name: Localized,
    pub area: String,
    pub language: Lang,
    /// Telegram user ids of the group's facilitators (coordinators may always act as facilitators).
    #[serde(default)]
    pub facilitators: Vec<IdValue>,
    /// When prompts are posted: a cron expression `minute hour day-of-month month day-of-week` in local
    /// time (BOT_TIMEZONE), day names for days of the week, e.g. `0 19 * * Tue`. None: no scheduled prompts.
    #[serde(default)]
    pub schedule: Option<String>,
    /// The prompt plan: theme ids (all of the theme's prompts in file order) and prompt ids, in order.
    #[serde(default)]
    pub plan: Vec<String>,
    #[serde(default)]
    pub rules: Option<Localized>,
    /// Fathers with no group of their area in their language are assigned to the fallback group.
    #[serde(default)]
    pub fallback: bool,
}

/// A Telegram user id as written in content: a number, or (a mistake `check` reports) a string.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum IdValue {
    Number(i64),
    Text(String),
}

impl IdValue {
    pub fn id(&self) -> Option<i64> {
        match self {
            IdValue::Number(n) if *n > 0 => Some(*n),
            _ => None,
        }
    }
}

impl PeerGroup {
    pub fn is_facilitator(&self, user: i64) -> bool {
        self.facilitators.iter().any(|f| f.id() == Some(user))
    }

    pub fn rules(&self, lang: Lang) -> &str {
        self.rules.as_ref().map(|r| r.get(lang)).unwrap_or("")
    }
}

/// The bot's own standing in a group chat (from getChatMember or a my_chat_member update).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct BotRights {
    pub status: BotStatus,
    pub can_invite_users: bool,
    pub can_delete_messages: bool,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum BotStatus {
    /// Administrator (or the owner).
    Administrator,
    Member,
    /// Left, kicked or restricted: the bot is not usable in the group.
    Gone,
}

/// What the bot lacks to run a peer group.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum MissingRight {
    /// Not in the group at all.
    NotInGroup,
    /// In the group, but not an administrator.
    NotAdmin,
    /// An administrator without "Invite users via link" (`can_invite_users`), needed for join requests.
    InviteUsers,
}

impl BotRights {
    pub fn missing(&self) -> Option<MissingRight> {
        match self.status {
            BotStatus::Gone => Some(MissingRight::NotInGroup),
            BotStatus::Member => Some(MissingRight::NotAdmin),
            BotStatus::Administrator if !self.can_invite_users => Some(MissingRight::InviteUsers),
            BotStatus::Administrator => None,
        }
    }
}

impl MissingRight {
    /// The text key that names the missing right.
    pub fn text_key(self) -> &'static str {
        match self {
            MissingRight::NotInGroup => "groups.right_not_in_group",
            MissingRight::NotAdmin => "groups.right_not_admin",
            MissingRight::InviteUsers => "groups.right_invite_users",
        }
    }
}

/// A theme of the prompt library (one file in dialogues/prompts/).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Theme {
    pub id: String,
    pub name: Localized,
    #[serde(default, rename = "prompt")]
    pub prompts: Vec<Prompt>,
}

/// A discussion prompt with a stable id, and an optional follow-up question.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Prompt {
    pub id: String,
    pub text: Localized,
    #[serde(default)]
    pub follow_up: Option<Localized>,
}

/// The prompts of a group's plan in order, each once (an id that names nothing is left out; `check`
/// reports it).
pub fn plan_prompts<'a>(group: &PeerGroup, themes: &'a [Theme]) -> Vec<&'a Prompt> {
    let mut out: Vec<&Prompt> = Vec::new();
    for entry in &group.plan {
        let found: Vec<&Prompt> = match themes.iter().find(|t| &t.id == entry) {
            Some(theme) => theme.prompts.iter().collect(),
            None => themes
                .iter()
                .flat_map(|t| &t.prompts)
                .filter(|p| &p.id == entry)
                .collect(),
        };
        for prompt in found {
            if !out.iter().any(|p| p.id == prompt.id) {
                out.push(prompt);
            }
        }
    }
    out
}

/// The group a father is assigned to when he chose peer support without a group link: the group of his
/// area in his language, else the fallback group of his language (the online group), else any fallback
/// group, else none.
pub fn assign_group<'a>(
    groups: &'a [PeerGroup],
    area: Option<&str>,
    lang: Lang,
) -> Option<&'a PeerGroup> {
    groups
        .iter()
        .find(|g| Some(g.area.as_str()) == area && g.language == lang)
        .or_else(|| groups.iter().find(|g| g.fallback && g.language == lang))
        .or_else(|| groups.iter().find(|g| g.fallback))
}

/// A help resource `/apua` lists (dialogues/support.toml).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Resource {
    pub id: String,
    pub name: Localized,
    /// A phone number, email address or web address.
    pub contact: String,
    #[serde(default)]
    pub note: Option<Localized>,
}

/// One step of the one-to-one coaching path (dialogues/coaching.toml).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CoachingStep {
    pub id: String,
    /// A theme id of the prompt library.
    pub theme: String,
    pub title: Localized,
    pub text: Localized,
    pub question: Localized,
}

#[cfg(test)]
mod tests {
    use super::*;

    fn group(id: &str, area: &str, lang: Lang, fallback: bool) -> PeerGroup {
        PeerGroup {
            id: id.into(),
            code: id.into(),
            name: Localized::default(),
            area: area.into(),
            language: lang,
            facilitators: vec![IdValue::Number(5), IdValue::Text("x".into())],
            schedule: None,
            plan: vec![],
            rules: None,
            fallback,
        }
    }

    #[test]
    fn fathers_get_their_areas_group_in_their_language_else_the_online_group() {
        let groups = [
            group("oulu", "oulu", Lang::Fi, false),
            group("online", "elsewhere", Lang::En, true),
        ];
        assert_eq!(
            assign_group(&groups, Some("oulu"), Lang::Fi).unwrap().id,
            "oulu"
        );
        assert_eq!(
            assign_group(&groups, Some("oulu"), Lang::En).unwrap().id,
            "online"
        );
        assert_eq!(
            assign_group(&groups, Some("kajaani"), Lang::Fi).unwrap().id,
            "online"
        );
        assert_eq!(assign_group(&groups[..1], Some("kajaani"), Lang::Fi), None);
        // With a fallback group per language, each father gets the one in his language.
        let groups = [
            group("online-en", "elsewhere", Lang::En, true),
            group("online-fi", "elsewhere", Lang::Fi, true),
        ];
        assert_eq!(
            assign_group(&groups, Some("kajaani"), Lang::Fi).unwrap().id,
            "online-fi"
        );
        assert_eq!(
            assign_group(&groups, Some("oulu"), Lang::En).unwrap().id,
            "online-en"
        );
        assert!(groups[0].is_facilitator(5));
        assert!(!groups[0].is_facilitator(6));
    }

    #[test]
    fn a_plan_expands_themes_and_names_each_prompt_once() {
        let prompt = |id: &str| Prompt {
            id: id.into(),
            text: Localized::default(),
            follow_up: None,
        };
        let themes = [
            Theme {
                id: "a".into(),
                name: Localized::default(),
                prompts: vec![prompt("a1"), prompt("a2")],
            },
            Theme {
                id: "b".into(),
                name: Localized::default(),
                prompts: vec![prompt("b1")],
            },
        ];
        let mut g = group("g", "oulu", Lang::Fi, false);
        g.plan = vec![
            "b1".into(),
            "a".into(),
            "a2".into(),
            "b".into(),
            "zz".into(),
        ];
        let ids: Vec<&str> = plan_prompts(&g, &themes)
            .iter()
            .map(|p| p.id.as_str())
            .collect();
        assert_eq!(ids, ["b1", "a1", "a2"]);
    }
}
