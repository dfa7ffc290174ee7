"""The marketplace domain: orders, offers, service packages, mentors, service needs, interest and shortlists,
intent orders and contracts."""
