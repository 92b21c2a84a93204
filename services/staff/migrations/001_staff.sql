-- The Staff service's tables (DOMAIN.md "Staff"). Working hours and date overrides are jsonb in
-- the staff member's own time zone (`timezone`); the availability module turns them into instants.
CREATE TABLE staff (
  id             uuid PRIMARY KEY,
  given_name     text NOT NULL,
  family_name    text NOT NULL,
  role           text NOT NULL
                 CHECK (role IN ('physician', 'nurse', 'pharmacist', 'receptionist', 'technician', 'admin')),
  department     text NOT NULL,
  specialties    jsonb NOT NULL DEFAULT '[]' CHECK (jsonb_typeof(specialties) = 'array'),
  license_number text,
  email          text,
  phone          text,
  active         boolean NOT NULL DEFAULT true,
  timezone       text NOT NULL,
  weekly_hours   jsonb NOT NULL DEFAULT '[]' CHECK (jsonb_typeof(weekly_hours) = 'array'),
  overrides      jsonb NOT NULL DEFAULT '[]' CHECK (jsonb_typeof(overrides) = 'array'),
  version        integer NOT NULL DEFAULT 1,
  created_at     timestamptz NOT NULL,
  updated_at     timestamptz NOT NULL
);

-- the list's filters, each in the list's (id) order for keyset paging
CREATE INDEX staff_role_id ON staff (role, id);
CREATE INDEX staff_department_id ON staff (department, id);
CREATE INDEX staff_active_id ON staff (active, id);
CREATE INDEX staff_specialties ON staff USING gin (specialties jsonb_path_ops);

-- absences of one staff member (leave, training), as instants
CREATE TABLE time_off (
  id         uuid PRIMARY KEY,
  staff_id   uuid NOT NULL REFERENCES staff (id),
  starts_at  timestamptz NOT NULL,
  ends_at    timestamptz NOT NULL,
  reason     text,
  created_at timestamptz NOT NULL,
  CHECK (ends_at > starts_at)
);
CREATE INDEX time_off_staff_start ON time_off (staff_id, starts_at, id);

-- facility closures (holidays): whole dates in the facility's time zone, for everyone
CREATE TABLE closures (
  date       date PRIMARY KEY,
  name       text NOT NULL,
  created_at timestamptz NOT NULL
);
