use crate::harness::{TestBot, joined};
use fake_telegram::FakeUser;
use testkit::story::register_father;

const COORDINATOR: i64 = 900;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_non_coordinator_is_refused_politely() {
    let bot = TestBot::start_with(&[("COORDINATOR_IDS", "900")]).await;
    let pekka = register_father(&bot, 7001, "Pekka").await;
    for command in ["/stats", "/participants"] {
        let replies = bot.send(&pekka, command).await;
        assert_eq!(
            joined(&replies),
            "Tämä komento on vain hankkeen koordinaattoreille."
        );
        assert!(replies.iter().all(|m| m.document.is_none()));
    }
    assert_eq!(
        bot.count("SELECT COUNT(*) FROM audit_log WHERE actor = ?", pekka.id)
            .await,
        0
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn coordinators_see_stats_and_get_the_participant_list_as_excel_friendly_csv() {
    let bot = TestBot::start_with(&[("COORDINATOR_IDS", "900, 901")]).await;
    register_father(&bot, 7002, "Pekka").await;
    register_father(&bot, 7003, "Matti; \"Masa\"").await;
    let coordinator = FakeUser::new(COORDINATOR, "Venla", Some("fi"));

    let text = joined(&bot.send(&coordinator, "/stats").await);
    assert!(text.contains("Ilmoittautuneet yhteensä: 2"), "{text}");
    assert!(text.contains("• Isä: 2"), "{text}");
    assert!(text.contains("• Oulu: 2"), "{text}");

    let replies = bot.send(&coordinator, "/participants").await;
    let document = replies
        .iter()
        .find_map(|m| m.document.clone())
        .expect("a CSV document");
    assert_eq!(document.file_name, "milava-participants-2024-03-12.csv");
    assert!(
        document.bytes.starts_with(&[0xEF, 0xBB, 0xBF]),
        "UTF-8 BOM for Excel"
    );
    let csv = String::from_utf8(document.bytes[3..].to_vec()).unwrap();
    let lines: Vec<&str> = csv.split("\r\n").filter(|l| !l.is_empty()).collect();
    assert_eq!(lines.len(), 3);
    // Headers and answers in the coordinator's language, not codes.
    assert_eq!(
        lines[0],
        "Telegram-tunnus;Rooli;Nimi;Alue;Kiinnostus;Organisaatio;Ala;Sähköposti;Työpajasarja;Vertaisryhmä;Tietosuojaselosteen versio;Tietosuoja hyväksytty;Tutkimuskäyttö sallittu;Ilmoittautunut"
    );
    assert!(
        lines[1].starts_with("7002;Isä;Pekka;Oulu;Molemmat;"),
        "{}",
        lines[1]
    );
    assert!(
        lines[2].starts_with("7003;Isä;\"Matti; \"\"Masa\"\"\";Oulu;"),
        "quoted: {}",
        lines[2]
    );
    assert!(
        lines[1].contains(";2024-03-12 09:00;kyllä;"),
        "local times and the research consent: {}",
        lines[1]
    );
    assert!(
        !csv.contains("father") && !csv.contains("both"),
        "no codes: {csv}"
    );

    // An English-speaking coordinator gets English headers and answers.
    let beth = FakeUser::new(901, "Beth", Some("en"));
    let replies = bot.send(&beth, "/participants").await;
    let document = replies
        .iter()
        .find_map(|m| m.document.clone())
        .expect("a CSV document");
    let csv = String::from_utf8(document.bytes[3..].to_vec()).unwrap();
    let lines: Vec<&str> = csv.split("\r\n").filter(|l| !l.is_empty()).collect();
    assert!(
        lines[0].starts_with("Telegram ID;Role;Name;Area;Interest;"),
        "{}",
        lines[0]
    );
    assert!(
        lines[1].starts_with("7002;Father;Pekka;Oulu;Both;"),
        "{}",
        lines[1]
    );
    assert!(lines[1].contains(";yes;"), "{}", lines[1]);
    assert_eq!(
        bot.count(
            "SELECT COUNT(*) FROM audit_log WHERE actor = ? AND action = 'participants_export'",
            COORDINATOR
        )
        .await,
        1
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn command_menus_are_published_per_language_and_longer_for_coordinators() {
    let bot = TestBot::start_with(&[("COORDINATOR_IDS", "900")]).await;
    bot.fake
        .wait_until("command menus", crate::harness::STEP_TIMEOUT, |f| {
            f.commands_set().len() >= 6
        })
        .await;
    let sets = bot.fake.commands_set();
    let finnish = sets
        .iter()
        .find(|s| s["language_code"] == "fi" && s.get("scope").is_none())
        .expect("a Finnish menu");
    let names: Vec<&str> = finnish["commands"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["command"].as_str().unwrap())
        .collect();
    use milava_bot::domain::commands::{Command, Where, Who};
    assert_eq!(names, Command::names_for(Who::Everyone, Where::Private));
    let english = sets
        .iter()
        .find(|s| s["language_code"] == "en" && s.get("scope").is_none())
        .expect("an English menu");
    assert_eq!(
        english["commands"][0]["description"],
        "Register or see your details"
    );
    let coordinator = sets
        .iter()
        .find(|s| {
            s["scope"]["type"] == "chat"
                && s["scope"]["chat_id"] == COORDINATOR
                && s["language_code"] == "fi"
        })
        .expect("the coordinator's menu");
    let coordinator_names: Vec<&str> = coordinator["commands"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["command"].as_str().unwrap())
        .collect();
    assert_eq!(
        coordinator_names.len(),
        names.len() + Command::names_for(Who::Coordinators, Where::Private).len()
    );
    assert!(coordinator_names.ends_with(&Command::names_for(Who::Coordinators, Where::Private)));
}
