-- Built-in roles and permissions (shared/API.md, Administration). Ids are fixed so later
-- migrations and code can refer to them. `user` is everyone's implicit role.
INSERT INTO `permissions` (`id`, `name`, `description`) VALUES
	('perm_read_own', 'read:own', 'Read own data'),
	('perm_write_own', 'write:own', 'Write own data'),
	('perm_read_all', 'read:all', 'Read all data'),
	('perm_write_all', 'write:all', 'Write all data'),
	('perm_admin_users', 'admin:users', 'Manage users'),
	('perm_admin_roles', 'admin:roles', 'Manage roles and permissions'),
	('perm_admin_audit', 'admin:audit', 'Read the audit log'),
	('perm_admin_system', 'admin:system', 'System administration (tender ingest, plans)');
--> statement-breakpoint
INSERT INTO `roles` (`id`, `name`, `description`, `is_builtin`) VALUES
	('role_user', 'user', 'Every signed-in user', 1),
	('role_moderator', 'moderator', 'Reads all data for moderation', 1),
	('role_admin', 'admin', 'Administrator: every admin:* permission', 1),
	('role_superuser', 'superuser', 'Platform administrator: everything, across every organization', 1);
--> statement-breakpoint
INSERT INTO `role_permissions` (`role_id`, `permission_id`) VALUES
	('role_user', 'perm_read_own'),
	('role_user', 'perm_write_own'),
	('role_moderator', 'perm_read_own'),
	('role_moderator', 'perm_write_own'),
	('role_moderator', 'perm_read_all'),
	('role_admin', 'perm_read_own'),
	('role_admin', 'perm_write_own'),
	('role_admin', 'perm_read_all'),
	('role_admin', 'perm_admin_users'),
	('role_admin', 'perm_admin_roles'),
	('role_admin', 'perm_admin_audit'),
	('role_admin', 'perm_admin_system'),
	('role_superuser', 'perm_read_own'),
	('role_superuser', 'perm_write_own'),
	('role_superuser', 'perm_read_all'),
	('role_superuser', 'perm_write_all'),
	('role_superuser', 'perm_admin_users'),
	('role_superuser', 'perm_admin_roles'),
	('role_superuser', 'perm_admin_audit'),
	('role_superuser', 'perm_admin_system');
