//! Who a notification reaches, read from the directory when it is sent: the e-mail addresses
//! of its audience, and the people who may decide a request.

use super::Undelivered;
use crate::domain::Request;
use crate::graph::DirectoryError;
use crate::service::Portal;
use crate::store::Notification;

impl Portal {
    /// The e-mail addresses of a notification's audience, read from Graph now.
    pub(super) async fn addresses(
        &self,
        n: &Notification,
        request: Option<&Request>,
    ) -> Result<Vec<String>, Undelivered> {
        let mut people = Vec::new();
        let mut to: Vec<String> = Vec::new();
        if let Some(id) = n.audience.get("user").and_then(|v| v.as_str())
            && let Some(u) = self.directory.get_user(id).await?
        {
            people.push(u);
        }
        if let Some(id) = n.audience.get("deciders").and_then(|v| v.as_str()) {
            let Some(r) = request.filter(|r| r.id == id) else {
                return Ok(Vec::new());
            };
            people.extend(self.deciders(r).await?);
        }
        if let Some(pkg) = n.audience.get("reviewers").and_then(|v| v.as_str()) {
            people.extend(self.reviewers_of(pkg).await?);
        }
        if let Some(id) = n.audience.get("manager_of").and_then(|v| v.as_str())
            && let Some(m) = self.directory.get_manager(id).await?
        {
            people.push(m);
        }
        if n.audience.get("admins").and_then(|v| v.as_bool()) == Some(true) {
            people.extend(
                self.directory
                    .app_role_holders(&self.settings.roles.admin)
                    .await?,
            );
        }
        for a in n
            .audience
            .get("addresses")
            .and_then(|v| v.as_array())
            .into_iter()
            .flatten()
            .filter_map(|v| v.as_str())
        {
            if a.contains('@') {
                to.push(a.to_string());
            } else if let Some(u) = self.directory.get_user(a).await? {
                people.push(u);
            }
        }
        to.extend(people.iter().filter_map(|u| u.email().map(str::to_string)));
        to.sort();
        to.dedup();
        Ok(to)
    }

    /// The people who may decide `r` now, as the directory has them: the package's approvers
    /// (the approver role, where it applies, and members of its approver groups) and, where
    /// allowed, the requester's manager; never the requester, nor who asked on their behalf.
    pub(crate) async fn deciders(
        &self,
        r: &Request,
    ) -> Result<Vec<crate::graph::DirectoryUser>, DirectoryError> {
        let Some(pkg) = self.package(&r.package) else {
            return Ok(Vec::new());
        };
        let mut people = Vec::new();
        if pkg.approver_role_applies {
            people.extend(
                self.directory
                    .app_role_holders(&self.settings.roles.approver)
                    .await?,
            );
        }
        for g in &pkg.approver_groups {
            people.extend(self.directory.list_transitive_members(g).await?);
        }
        people.retain(|u| !r.involves(&u.id));
        if let Some(m) = &r.manager_id
            && r.may_be_decided_by(m, false, pkg)
            && let Some(u) = self.directory.get_user(m).await?
        {
            people.push(u);
        }
        people.sort_by(|a, b| a.id.cmp(&b.id));
        people.dedup_by(|a, b| a.id.eq_ignore_ascii_case(&b.id));
        Ok(people)
    }

    /// The people who review package `id`'s access reviews now: the members of its `reviewers`
    /// groups, or else its deciders (the approver role where it applies, its approver groups).
    async fn reviewers_of(
        &self,
        id: &str,
    ) -> Result<Vec<crate::graph::DirectoryUser>, DirectoryError> {
        let Some(pkg) = self.package(id) else {
            return Ok(Vec::new());
        };
        let mut people = Vec::new();
        if pkg.review.reviewers.is_empty() {
            if pkg.approver_role_applies {
                people.extend(
                    self.directory
                        .app_role_holders(&self.settings.roles.approver)
                        .await?,
                );
            }
            for g in &pkg.approver_groups {
                people.extend(self.directory.list_transitive_members(g).await?);
            }
        } else {
            for g in &pkg.review.reviewers {
                people.extend(self.directory.list_transitive_members(g).await?);
            }
        }
        people.sort_by(|a, b| a.id.cmp(&b.id));
        people.dedup_by(|a, b| a.id.eq_ignore_ascii_case(&b.id));
        Ok(people)
    }
}
