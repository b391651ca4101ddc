//! Coordinators' survey commands: `/survey` (send a survey with a manual trigger to an audience), `/results`
//! (pick a survey and a series or session) and `/export` (the research export as files). Exports are audited.
use super::super::broadcast::audience_label;
use super::super::{Effects, Turn};
use super::{export, results, round};
use crate::db::{DbError, Tx, audit};
use crate::domain::broadcast::Audience;
use crate::domain::callback::SurveyAction;
use crate::domain::survey::Survey;
use crate::domain::{Button, CallbackData, Document, Reply};

fn button(label: String, action: SurveyAction) -> Vec<Button> {
    vec![Button::callback(
        label,
        CallbackData::Survey(action).encode(),
    )]
}

fn survey_buttons(
    turn: &Turn<'_>,
    pick: impl Fn(&Survey) -> Option<SurveyAction>,
) -> Vec<Vec<Button>> {
    turn.content
        .surveys
        .iter()
        .filter_map(|s| pick(s).map(|action| button(s.title.get(turn.lang()).to_string(), action)))
        .collect()
}

/// `/survey`: the surveys a coordinator may send by hand.
pub async fn start_round(_tx: &mut Tx, turn: &mut Turn<'_>) -> Result<Effects, DbError> {
    let mut out = Effects::default();
    let buttons = survey_buttons(turn, |s| {
        s.has_manual_trigger()
            .then(|| SurveyAction::Pick(s.id.clone()))
    });
    if buttons.is_empty() {
        out.push(Reply::text(turn.text("survey.none_manual")));
    } else {
        out.push(Reply::with_buttons(
            turn.text("survey.pick_to_send"),
            buttons,
        ));
    }
    Ok(out)
}

pub async fn results_menu(_tx: &mut Tx, turn: &mut Turn<'_>) -> Result<Effects, DbError> {
    let mut out = Effects::default();
    let buttons = survey_buttons(turn, |s| {
        Some(SurveyAction::Results {
            survey: s.id.clone(),
            scope: None,
        })
    });
    out.push(Reply::with_buttons(
        turn.text("survey.pick_results"),
        buttons,
    ));
    Ok(out)
}

pub async fn export_menu(_tx: &mut Tx, turn: &mut Turn<'_>) -> Result<Effects, DbError> {
    let mut out = Effects::default();
    let buttons = survey_buttons(turn, |s| Some(SurveyAction::Export(s.id.clone())));
    out.push(Reply::with_buttons(
        turn.text("survey.pick_export"),
        buttons,
    ));
    Ok(out)
}

/// The audiences offered (`round::audiences`), with their (short) button labels.
fn audiences(turn: &Turn<'_>) -> Vec<(Audience, String)> {
    let lang = turn.lang();
    let content = &turn.content;
    round::audiences(content)
        .into_iter()
        .map(|a| {
            let label = match &a {
                Audience::Everyone => turn.text("button.broadcast.everyone"),
                Audience::Research => turn.text("button.broadcast.research"),
                Audience::Series(id) => content
                    .series(id)
                    .map(|s| s.name.get(lang).to_string())
                    .unwrap_or_else(|| id.clone()),
                Audience::Group(id) => content
                    .group(id)
                    .map(|g| g.name.get(lang).to_string())
                    .unwrap_or_else(|| id.clone()),
                other => audience_label(turn, other),
            };
            (a, label)
        })
        .collect()
}

/// The scopes results can be shown for: everything, each series and each session the survey follows.
fn scopes(turn: &Turn<'_>, survey: &Survey) -> Vec<(String, String)> {
    let lang = turn.lang();
    let mut scopes = vec![("all".to_string(), turn.text("survey.scope_all"))];
    let mut sessions = Vec::new();
    for series in &turn.content.series {
        if !survey.triggers.iter().any(|t| t.covers_series(series)) {
            continue;
        }
        scopes.push((series.id.clone(), series.name.get(lang).to_string()));
        for session in results::followed_sessions(&turn.content, survey, series) {
            // With the series: two series may have a session of the same name a week apart.
            sessions.push((
                session.id.clone(),
                crate::services::labels::session_in_series(series, session, lang),
            ));
        }
    }
    scopes.extend(sessions);
    scopes
}

pub async fn on_button(
    tx: &mut Tx,
    turn: &mut Turn<'_>,
    action: SurveyAction,
) -> Result<Effects, DbError> {
    let mut out = Effects::default();
    let content = turn.content.clone();
    let survey_id = match &action {
        SurveyAction::Pick(s) | SurveyAction::Export(s) => s,
        SurveyAction::Audience { survey, .. }
        | SurveyAction::Send { survey, .. }
        | SurveyAction::Results { survey, .. } => survey,
        _ => return Ok(out),
    };
    let Some(survey) = content.survey(survey_id) else {
        out.toast = Some(turn.text("problem.button_expired"));
        return Ok(out);
    };
    let now = turn.now;
    let coordinator = turn.user.telegram_user_id;
    match action {
        SurveyAction::Pick(_) => {
            let rows = audiences(turn)
                .into_iter()
                .map(|(a, label)| {
                    button(
                        label,
                        SurveyAction::Audience {
                            survey: survey.id.clone(),
                            audience: a.code(),
                        },
                    )
                })
                .collect();
            out.mark_pressed = Some(format!("✅ {}", survey.title.get(turn.lang())));
            out.push(Reply::with_buttons(turn.text("survey.pick_audience"), rows));
            Ok(out)
        }
        SurveyAction::Audience { audience, .. } => {
            let Some(parsed) = Audience::parse(&audience) else {
                out.toast = Some(turn.text("problem.button_expired"));
                return Ok(out);
            };
            let count = round::count(tx, survey, &parsed, now).await?.invited;
            let text = turn.fill(
                "survey.send_preview",
                &[
                    ("title", survey.title.get(turn.lang())),
                    ("audience", &audience_label(turn, &parsed)),
                    ("count", &count.to_string()),
                ],
            );
            out.mark_pressed = Some(format!("✅ {}", audience_label(turn, &parsed)));
            let buttons = if count == 0 {
                Vec::new()
            } else {
                vec![button(
                    turn.text("button.survey.send"),
                    SurveyAction::Send {
                        survey: survey.id.clone(),
                        audience,
                    },
                )]
            };
            out.push(Reply::with_buttons(text, buttons));
            Ok(out)
        }
        SurveyAction::Send { audience, .. } => {
            let Some(parsed) = Audience::parse(&audience).filter(|_| survey.has_manual_trigger())
            else {
                out.toast = Some(turn.text("problem.button_expired"));
                return Ok(out);
            };
            let tz = turn.tz();
            let sent = round::send(tx, &content, tz, survey, &parsed, coordinator, "chat", now)
                .await?
                .invited;
            turn.wake_after_commit();
            out.mark_pressed = Some(format!("✅ {}", turn.text("button.survey.send")));
            out.push(Reply::text(
                turn.fill("survey.sent", &[("count", &sent.to_string())]),
            ));
            Ok(out)
        }
        SurveyAction::Results { scope: None, .. } => {
            let rows = scopes(turn, survey)
                .into_iter()
                .map(|(scope, label)| {
                    button(
                        label,
                        SurveyAction::Results {
                            survey: survey.id.clone(),
                            scope: Some(scope),
                        },
                    )
                })
                .collect();
            out.push(Reply::with_buttons(turn.text("survey.pick_scope"), rows));
            Ok(out)
        }
        SurveyAction::Results {
            scope: Some(scope), ..
        } => Ok(out.and(results::show(tx, turn, survey, &scope).await?)),
        SurveyAction::Export(_) => {
            let tz = turn.tz();
            let responses = export::research_responses(tx, survey, None).await?;
            let min = turn.config.survey_min_responses as usize;
            let detail = export::Detail::in_chat(&responses, min);
            if detail.withholds_all(responses.len()) {
                out.push(Reply::text(turn.fill(
                    "survey_anonymity.export_withheld",
                    &[
                        ("title", survey.title.get(turn.lang())),
                        ("count", &responses.len().to_string()),
                        ("min", &min.to_string()),
                    ],
                )));
                return Ok(out);
            }
            let stamp = now.with_timezone(&tz).format("%Y-%m-%d").to_string();
            out.push(Reply::Document(Document {
                file_name: format!("{}-{stamp}.csv", survey.id),
                bytes: export::csv_file(survey, &responses, tz, &detail),
                caption: Some(turn.fill(
                    "survey.export_caption",
                    &[
                        ("title", survey.title.get(turn.lang())),
                        ("count", &responses.len().to_string()),
                    ],
                )),
            }));
            out.push(Reply::Document(Document {
                file_name: format!("{}-{stamp}.codebook.csv", survey.id),
                bytes: export::codebook(&content, survey, &detail),
                caption: None,
            }));
            audit::record(
                tx,
                coordinator,
                "survey_export",
                &format!("{} (chat): {} responses", survey.id, responses.len()),
                now,
            )
            .await?;
            Ok(out)
        }
        _ => Ok(out),
    }
}
