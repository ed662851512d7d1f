//! Structural checks of a forest read from a file.
//!
//! Loading runs only [`check_roots`] (O(trees)); [`check_forest`] walks every tree and is what
//! an explicit verify runs. Search itself bounds-checks every reference it follows, so even an
//! unverified damaged file yields errors, never a crash or an out-of-bounds read.

use crate::error::{Error, Result};
use crate::search::Forest;

/// The last `n_trees` nodes are the roots, and each records `n_items` descendants.
pub(crate) fn check_roots(forest: &Forest) -> Result<()> {
    let nodes = &forest.nodes;
    let n_nodes = nodes.len();
    if forest.n_trees > n_nodes || forest.n_items > n_nodes {
        return Err(Error::corrupt(format!(
            "the index is corrupt: {} items and {} trees cannot fit in {n_nodes} nodes",
            forest.n_items, forest.n_trees
        )));
    }
    for root in n_nodes - forest.n_trees..n_nodes {
        let n = nodes.layout.n_descendants(nodes.get(root));
        if n as i64 != forest.n_items as i64 {
            return Err(Error::corrupt(format!(
                "the index is corrupt: root node {root} records {n} items, not {}",
                forest.n_items
            )));
        }
    }
    Ok(())
}

/// Walks every tree: references in range, items where items belong, no node reached twice.
/// Roots may be item slots: Annoy's root scan counts the item of a one-item index.
pub(crate) fn check_forest(forest: &Forest) -> Result<()> {
    check_roots(forest)?;
    let nodes = &forest.nodes;
    let layout = nodes.layout;
    let (n_nodes, n_items, k) = (nodes.len(), forest.n_items, layout.k as i32);
    let bad = |detail: String| Err(Error::corrupt(format!("the index is corrupt: {detail}")));

    for i in 0..n_items {
        let n = layout.n_descendants(nodes.get(i));
        if n != 0 && n != 1 {
            return bad(format!("item slot {i} records {n} descendants"));
        }
    }
    let mut seen = vec![false; n_nodes];
    let mut stack: Vec<usize> = (n_nodes - forest.n_trees..n_nodes).collect();
    while let Some(i) = stack.pop() {
        let node = nodes.get(i);
        let n = layout.n_descendants(node);
        if i < n_items {
            if n != 1 {
                return bad(format!(
                    "a split node points at item slot {i}, which is empty"
                ));
            }
            continue;
        }
        if std::mem::replace(&mut seen[i], true) {
            return bad(format!(
                "node {i} is reached twice (a cycle or shared subtree)"
            ));
        }
        if n < 0 {
            return bad(format!("node {i} records {n} descendants"));
        }
        if n <= k {
            for c in 0..n as usize {
                let item = layout.child(node, c);
                if item < 0 || item as usize >= n_items {
                    return bad(format!("leaf {i} lists item {item}, outside 0..{n_items}"));
                }
            }
        } else {
            for c in 0..2 {
                let child = layout.child(node, c);
                if child < 0 || child as usize >= n_nodes {
                    return bad(format!(
                        "node {i} points at node {child}, outside 0..{n_nodes}"
                    ));
                }
                stack.push(child as usize);
            }
        }
    }
    Ok(())
}
