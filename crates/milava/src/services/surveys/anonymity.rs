//! Which survey scopes may be shown at once. The scopes nest: all responses ⊇ a series' responses ⊇ a session's
//! responses (a session's responses carry its series). A threshold on each scope alone is not enough: with 5
//! Oulu responses and 1 Rovaniemi response, "all" minus "Oulu" is the one Rovaniemi person. The rule:
//!
//! 1. a scope with fewer than `min` responses is withheld, and so is every scope inside a withheld one;
//! 2. going from the widest scope inwards, inside each shown scope the responses that are in none of its
//!    shown sub-scopes (its *rest*) must be none or at least `min`; while the rest is 1…min−1, the shown
//!    sub-scope with the fewest responses (ties: the smaller id) is withheld, which adds its responses to the
//!    rest.
//!
//! Then every set that can be made from shown scopes by unions and differences is a union of shown scopes'
//! rests, so it holds no responses or at least `min`. Results and free-text answers follow the same set, and
//! so do the series and session cells of the in-chat export.
use std::collections::{BTreeMap, BTreeSet};

/// The widest scope's id.
pub const ALL: &str = "all";

#[derive(Debug, Default)]
struct Node {
    count: usize,
    children: BTreeMap<String, Node>,
}

/// The scopes (`"all"`, series ids, session ids) that may be shown, given each response's series and session.
pub fn shown_scopes<'a>(
    places: impl IntoIterator<Item = (Option<&'a str>, Option<&'a str>)>,
    min: usize,
) -> BTreeSet<String> {
    let mut root = Node::default();
    for (series, session) in places {
        root.count += 1;
        let mut node = &mut root;
        for id in [series, session].into_iter().flatten() {
            node = node.children.entry(id.to_string()).or_default();
            node.count += 1;
        }
    }
    let mut shown = BTreeSet::new();
    decide(ALL, &root, min, &mut shown);
    shown
}

fn decide(id: &str, node: &Node, min: usize, shown: &mut BTreeSet<String>) {
    if node.count < min || node.count == 0 {
        return;
    }
    shown.insert(id.to_string());
    let mut kids: Vec<(&String, &Node)> = node
        .children
        .iter()
        .filter(|(_, child)| child.count >= min)
        .collect();
    kids.sort_by(|a, b| a.1.count.cmp(&b.1.count).then(a.0.cmp(b.0)));
    let mut rest = node.count - kids.iter().map(|(_, k)| k.count).sum::<usize>();
    let mut withheld = 0;
    while rest > 0 && rest < min && withheld < kids.len() {
        rest += kids[withheld].1.count;
        withheld += 1;
    }
    for (child_id, child) in &kids[withheld..] {
        decide(child_id, child, min, shown);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A series ("" for none), a session and how many responses it has.
    type Place = (&'static str, Option<&'static str>, usize);

    fn places(
        list: &[(&'static str, Option<&'static str>, usize)],
    ) -> Vec<(Option<&'static str>, Option<&'static str>)> {
        list.iter()
            .flat_map(|(series, session, n)| {
                std::iter::repeat_n((Some(*series).filter(|s| !s.is_empty()), *session), *n)
            })
            .collect()
    }

    fn shown(list: &[Place], min: usize) -> Vec<String> {
        shown_scopes(places(list), min).into_iter().collect()
    }

    #[test]
    fn a_sub_scope_whose_complement_is_too_small_is_withheld() {
        // 5 Oulu + 1 Rovaniemi: "all" and "Oulu" together reveal Rovaniemi's one, so Oulu is withheld.
        assert_eq!(shown(&[("oulu", None, 5), ("rova", None, 1)], 5), ["all"]);
        // 5 + 5: everything is safe.
        assert_eq!(
            shown(&[("oulu", None, 5), ("rova", None, 5)], 5),
            ["all", "oulu", "rova"]
        );
        // 5 + 5 + 1 outside any series: showing both series would leave the one; the smaller (by id) goes.
        assert_eq!(
            shown(&[("oulu", None, 5), ("rova", None, 5), ("", None, 1)], 5),
            ["all", "rova"]
        );
        // All in one series: the rest is empty, both shown.
        assert_eq!(shown(&[("oulu", None, 6)], 5), ["all", "oulu"]);
        // Sessions inside a series follow the same rule.
        assert_eq!(
            shown(
                &[
                    ("oulu", Some("s1"), 5),
                    ("oulu", Some("s2"), 2),
                    ("rova", None, 6)
                ],
                5
            ),
            ["all", "oulu", "rova"]
        );
        assert_eq!(
            shown(
                &[
                    ("oulu", Some("s1"), 5),
                    ("oulu", Some("s2"), 5),
                    ("rova", None, 6)
                ],
                5
            ),
            ["all", "oulu", "rova", "s1", "s2"]
        );
        // Too few in all: nothing.
        assert!(shown(&[("oulu", None, 4)], 5).is_empty());
        assert!(shown(&[], 0).is_empty());
        // Without a threshold everything with a response is shown.
        assert_eq!(shown(&[("oulu", None, 1)], 1), ["all", "oulu"]);
    }

    /// Every union/difference of shown scopes has 0 or at least `min` responses: checked on the rests.
    #[test]
    fn every_shown_scopes_rest_is_empty_or_large_enough() {
        let mut seed = 7u64;
        let mut next = |n: u64| {
            seed = seed
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            (seed >> 33) % n
        };
        for _ in 0..500 {
            let min = 1 + next(5) as usize;
            let mut list = Vec::new();
            for (series, sessions) in [("a", ["a1", "a2"]), ("b", ["b1", "b2"])] {
                list.push((series, None, next(6) as usize));
                for s in sessions {
                    list.push((series, Some(s), next(6) as usize));
                }
            }
            list.push(("", None, next(3) as usize));
            let shown = shown_scopes(places(&list), min);
            let count = |f: &dyn Fn(&Place) -> bool| -> usize {
                list.iter().filter(|p| f(p)).map(|p| p.2).sum()
            };
            let in_scope =
                |scope: &str, p: &Place| scope == ALL || p.0 == scope || p.1 == Some(scope);
            for scope in &shown {
                let inner: Vec<&String> = shown
                    .iter()
                    .filter(|s| {
                        *s != scope
                            && (scope == ALL || (s.len() == 2 && s.starts_with(scope.as_str())))
                    })
                    .filter(|s| scope != ALL || s.len() == 1)
                    .collect();
                let rest = count(&|p| in_scope(scope, p) && !inner.iter().any(|s| in_scope(s, p)));
                assert!(
                    rest == 0 || rest >= min,
                    "{list:?} min {min}: {scope} rest {rest}"
                );
                assert!(count(&|p| in_scope(scope, p)) >= min);
            }
        }
    }
}
