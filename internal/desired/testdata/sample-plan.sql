-- create role region_anxi [db (maintenance), tx 1]
CREATE ROLE "region_anxi" NOLOGIN;
-- alter role region_anxi [db (maintenance), tx 1]
COMMENT ON ROLE "region_anxi" IS 'managed by region-operator for Region anxi (uid ) in cluster test-cluster';
-- create role region_anxi_county [db (maintenance), tx 1]
CREATE ROLE "region_anxi_county" LOGIN PASSWORD '<password>';
-- alter role region_anxi_county [db (maintenance), tx 1]
COMMENT ON ROLE "region_anxi_county" IS 'managed by region-operator for Region anxi (uid ) in cluster test-cluster';
-- create role region_anxi_supervisor [db (maintenance), tx 1]
CREATE ROLE "region_anxi_supervisor" LOGIN PASSWORD '<password>';
-- alter role region_anxi_supervisor [db (maintenance), tx 1]
COMMENT ON ROLE "region_anxi_supervisor" IS 'managed by region-operator for Region anxi (uid ) in cluster test-cluster';
-- create role region_anxi_fengcheng [db (maintenance), tx 1]
CREATE ROLE "region_anxi_fengcheng" LOGIN PASSWORD '<password>';
-- alter role region_anxi_fengcheng [db (maintenance), tx 1]
COMMENT ON ROLE "region_anxi_fengcheng" IS 'managed by region-operator for Region anxi (uid ) in cluster test-cluster';
-- create role region_anxi_penglai [db (maintenance), tx 1]
CREATE ROLE "region_anxi_penglai" LOGIN PASSWORD '<password>';
-- alter role region_anxi_penglai [db (maintenance), tx 1]
COMMENT ON ROLE "region_anxi_penglai" IS 'managed by region-operator for Region anxi (uid ) in cluster test-cluster';
-- create role region_anxi_hutou [db (maintenance), tx 1]
CREATE ROLE "region_anxi_hutou" LOGIN PASSWORD '<password>';
-- alter role region_anxi_hutou [db (maintenance), tx 1]
COMMENT ON ROLE "region_anxi_hutou" IS 'managed by region-operator for Region anxi (uid ) in cluster test-cluster';
-- create role region_anxi_guanqiao [db (maintenance), tx 1]
CREATE ROLE "region_anxi_guanqiao" LOGIN PASSWORD '<password>';
-- alter role region_anxi_guanqiao [db (maintenance), tx 1]
COMMENT ON ROLE "region_anxi_guanqiao" IS 'managed by region-operator for Region anxi (uid ) in cluster test-cluster';
-- create role region_anxi_jiandou [db (maintenance), tx 1]
CREATE ROLE "region_anxi_jiandou" LOGIN PASSWORD '<password>';
-- alter role region_anxi_jiandou [db (maintenance), tx 1]
COMMENT ON ROLE "region_anxi_jiandou" IS 'managed by region-operator for Region anxi (uid ) in cluster test-cluster';
-- create role region_anxi_chengxiang [db (maintenance), tx 1]
CREATE ROLE "region_anxi_chengxiang" LOGIN PASSWORD '<password>';
-- alter role region_anxi_chengxiang [db (maintenance), tx 1]
COMMENT ON ROLE "region_anxi_chengxiang" IS 'managed by region-operator for Region anxi (uid ) in cluster test-cluster';
-- create role region_anxi_jingu [db (maintenance), tx 1]
CREATE ROLE "region_anxi_jingu" LOGIN PASSWORD '<password>';
-- alter role region_anxi_jingu [db (maintenance), tx 1]
COMMENT ON ROLE "region_anxi_jingu" IS 'managed by region-operator for Region anxi (uid ) in cluster test-cluster';
-- create role region_anxi_longmen [db (maintenance), tx 1]
CREATE ROLE "region_anxi_longmen" LOGIN PASSWORD '<password>';
-- alter role region_anxi_longmen [db (maintenance), tx 1]
COMMENT ON ROLE "region_anxi_longmen" IS 'managed by region-operator for Region anxi (uid ) in cluster test-cluster';
-- create role region_anxi_huqiu [db (maintenance), tx 1]
CREATE ROLE "region_anxi_huqiu" LOGIN PASSWORD '<password>';
-- alter role region_anxi_huqiu [db (maintenance), tx 1]
COMMENT ON ROLE "region_anxi_huqiu" IS 'managed by region-operator for Region anxi (uid ) in cluster test-cluster';
-- create role region_anxi_lutian [db (maintenance), tx 1]
CREATE ROLE "region_anxi_lutian" LOGIN PASSWORD '<password>';
-- alter role region_anxi_lutian [db (maintenance), tx 1]
COMMENT ON ROLE "region_anxi_lutian" IS 'managed by region-operator for Region anxi (uid ) in cluster test-cluster';
-- create role region_anxi_gande [db (maintenance), tx 1]
CREATE ROLE "region_anxi_gande" LOGIN PASSWORD '<password>';
-- alter role region_anxi_gande [db (maintenance), tx 1]
COMMENT ON ROLE "region_anxi_gande" IS 'managed by region-operator for Region anxi (uid ) in cluster test-cluster';
-- create role region_anxi_kuidou [db (maintenance), tx 1]
CREATE ROLE "region_anxi_kuidou" LOGIN PASSWORD '<password>';
-- alter role region_anxi_kuidou [db (maintenance), tx 1]
COMMENT ON ROLE "region_anxi_kuidou" IS 'managed by region-operator for Region anxi (uid ) in cluster test-cluster';
-- create role region_anxi_xiping [db (maintenance), tx 1]
CREATE ROLE "region_anxi_xiping" LOGIN PASSWORD '<password>';
-- alter role region_anxi_xiping [db (maintenance), tx 1]
COMMENT ON ROLE "region_anxi_xiping" IS 'managed by region-operator for Region anxi (uid ) in cluster test-cluster';
-- create role region_anxi_cannei [db (maintenance), tx 1]
CREATE ROLE "region_anxi_cannei" LOGIN PASSWORD '<password>';
-- alter role region_anxi_cannei [db (maintenance), tx 1]
COMMENT ON ROLE "region_anxi_cannei" IS 'managed by region-operator for Region anxi (uid ) in cluster test-cluster';
-- create role region_anxi_changqing [db (maintenance), tx 1]
CREATE ROLE "region_anxi_changqing" LOGIN PASSWORD '<password>';
-- alter role region_anxi_changqing [db (maintenance), tx 1]
COMMENT ON ROLE "region_anxi_changqing" IS 'managed by region-operator for Region anxi (uid ) in cluster test-cluster';
-- create role region_anxi_bailai [db (maintenance), tx 1]
CREATE ROLE "region_anxi_bailai" LOGIN PASSWORD '<password>';
-- alter role region_anxi_bailai [db (maintenance), tx 1]
COMMENT ON ROLE "region_anxi_bailai" IS 'managed by region-operator for Region anxi (uid ) in cluster test-cluster';
-- create role region_anxi_hushang [db (maintenance), tx 1]
CREATE ROLE "region_anxi_hushang" LOGIN PASSWORD '<password>';
-- alter role region_anxi_hushang [db (maintenance), tx 1]
COMMENT ON ROLE "region_anxi_hushang" IS 'managed by region-operator for Region anxi (uid ) in cluster test-cluster';
-- create role region_anxi_shangqing [db (maintenance), tx 1]
CREATE ROLE "region_anxi_shangqing" LOGIN PASSWORD '<password>';
-- alter role region_anxi_shangqing [db (maintenance), tx 1]
COMMENT ON ROLE "region_anxi_shangqing" IS 'managed by region-operator for Region anxi (uid ) in cluster test-cluster';
-- create role region_anxi_daping [db (maintenance), tx 1]
CREATE ROLE "region_anxi_daping" LOGIN PASSWORD '<password>';
-- alter role region_anxi_daping [db (maintenance), tx 1]
COMMENT ON ROLE "region_anxi_daping" IS 'managed by region-operator for Region anxi (uid ) in cluster test-cluster';
-- create role region_anxi_longjuan [db (maintenance), tx 1]
CREATE ROLE "region_anxi_longjuan" LOGIN PASSWORD '<password>';
-- alter role region_anxi_longjuan [db (maintenance), tx 1]
COMMENT ON ROLE "region_anxi_longjuan" IS 'managed by region-operator for Region anxi (uid ) in cluster test-cluster';
-- create role region_anxi_lantian [db (maintenance), tx 1]
CREATE ROLE "region_anxi_lantian" LOGIN PASSWORD '<password>';
-- alter role region_anxi_lantian [db (maintenance), tx 1]
COMMENT ON ROLE "region_anxi_lantian" IS 'managed by region-operator for Region anxi (uid ) in cluster test-cluster';
-- create role region_anxi_xianghua [db (maintenance), tx 1]
CREATE ROLE "region_anxi_xianghua" LOGIN PASSWORD '<password>';
-- alter role region_anxi_xianghua [db (maintenance), tx 1]
COMMENT ON ROLE "region_anxi_xianghua" IS 'managed by region-operator for Region anxi (uid ) in cluster test-cluster';
-- create role region_anxi_taozhou [db (maintenance), tx 1]
CREATE ROLE "region_anxi_taozhou" LOGIN PASSWORD '<password>';
-- alter role region_anxi_taozhou [db (maintenance), tx 1]
COMMENT ON ROLE "region_anxi_taozhou" IS 'managed by region-operator for Region anxi (uid ) in cluster test-cluster';
-- create role region_anxi_futian [db (maintenance), tx 1]
CREATE ROLE "region_anxi_futian" LOGIN PASSWORD '<password>';
-- alter role region_anxi_futian [db (maintenance), tx 1]
COMMENT ON ROLE "region_anxi_futian" IS 'managed by region-operator for Region anxi (uid ) in cluster test-cluster';
-- alter role region_anxi_county [db (maintenance), tx 1]
ALTER ROLE "region_anxi_county" SET search_path = "county", "org";
-- alter role region_anxi_county [db (maintenance), tx 1]
ALTER ROLE "region_anxi_county" CONNECTION LIMIT 20;
-- alter role region_anxi_supervisor [db (maintenance), tx 1]
ALTER ROLE "region_anxi_supervisor" SET search_path = "org", "county", "fengcheng", "penglai", "hutou", "guanqiao", "jiandou", "chengxiang", "jingu", "longmen", "huqiu", "lutian", "gande", "kuidou", "xiping", "cannei", "changqing", "bailai", "hushang", "shangqing", "daping", "longjuan", "lantian", "xianghua", "taozhou", "futian";
-- alter role region_anxi_supervisor [db (maintenance), tx 1]
ALTER ROLE "region_anxi_supervisor" CONNECTION LIMIT 20;
-- alter role region_anxi_fengcheng [db (maintenance), tx 1]
ALTER ROLE "region_anxi_fengcheng" SET search_path = "fengcheng", "org";
-- alter role region_anxi_fengcheng [db (maintenance), tx 1]
ALTER ROLE "region_anxi_fengcheng" CONNECTION LIMIT 20;
-- alter role region_anxi_penglai [db (maintenance), tx 1]
ALTER ROLE "region_anxi_penglai" SET search_path = "penglai", "org";
-- alter role region_anxi_penglai [db (maintenance), tx 1]
ALTER ROLE "region_anxi_penglai" CONNECTION LIMIT 20;
-- alter role region_anxi_hutou [db (maintenance), tx 1]
ALTER ROLE "region_anxi_hutou" SET search_path = "hutou", "org";
-- alter role region_anxi_hutou [db (maintenance), tx 1]
ALTER ROLE "region_anxi_hutou" CONNECTION LIMIT 20;
-- alter role region_anxi_guanqiao [db (maintenance), tx 1]
ALTER ROLE "region_anxi_guanqiao" SET search_path = "guanqiao", "org";
-- alter role region_anxi_guanqiao [db (maintenance), tx 1]
ALTER ROLE "region_anxi_guanqiao" CONNECTION LIMIT 20;
-- alter role region_anxi_jiandou [db (maintenance), tx 1]
ALTER ROLE "region_anxi_jiandou" SET search_path = "jiandou", "org";
-- alter role region_anxi_jiandou [db (maintenance), tx 1]
ALTER ROLE "region_anxi_jiandou" CONNECTION LIMIT 20;
-- alter role region_anxi_chengxiang [db (maintenance), tx 1]
ALTER ROLE "region_anxi_chengxiang" SET search_path = "chengxiang", "org";
-- alter role region_anxi_chengxiang [db (maintenance), tx 1]
ALTER ROLE "region_anxi_chengxiang" CONNECTION LIMIT 20;
-- alter role region_anxi_jingu [db (maintenance), tx 1]
ALTER ROLE "region_anxi_jingu" SET search_path = "jingu", "org";
-- alter role region_anxi_jingu [db (maintenance), tx 1]
ALTER ROLE "region_anxi_jingu" CONNECTION LIMIT 20;
-- alter role region_anxi_longmen [db (maintenance), tx 1]
ALTER ROLE "region_anxi_longmen" SET search_path = "longmen", "org";
-- alter role region_anxi_longmen [db (maintenance), tx 1]
ALTER ROLE "region_anxi_longmen" CONNECTION LIMIT 20;
-- alter role region_anxi_huqiu [db (maintenance), tx 1]
ALTER ROLE "region_anxi_huqiu" SET search_path = "huqiu", "org";
-- alter role region_anxi_huqiu [db (maintenance), tx 1]
ALTER ROLE "region_anxi_huqiu" CONNECTION LIMIT 20;
-- alter role region_anxi_lutian [db (maintenance), tx 1]
ALTER ROLE "region_anxi_lutian" SET search_path = "lutian", "org";
-- alter role region_anxi_lutian [db (maintenance), tx 1]
ALTER ROLE "region_anxi_lutian" CONNECTION LIMIT 20;
-- alter role region_anxi_gande [db (maintenance), tx 1]
ALTER ROLE "region_anxi_gande" SET search_path = "gande", "org";
-- alter role region_anxi_gande [db (maintenance), tx 1]
ALTER ROLE "region_anxi_gande" CONNECTION LIMIT 20;
-- alter role region_anxi_kuidou [db (maintenance), tx 1]
ALTER ROLE "region_anxi_kuidou" SET search_path = "kuidou", "org";
-- alter role region_anxi_kuidou [db (maintenance), tx 1]
ALTER ROLE "region_anxi_kuidou" CONNECTION LIMIT 20;
-- alter role region_anxi_xiping [db (maintenance), tx 1]
ALTER ROLE "region_anxi_xiping" SET search_path = "xiping", "org";
-- alter role region_anxi_xiping [db (maintenance), tx 1]
ALTER ROLE "region_anxi_xiping" CONNECTION LIMIT 20;
-- alter role region_anxi_cannei [db (maintenance), tx 1]
ALTER ROLE "region_anxi_cannei" SET search_path = "cannei", "org";
-- alter role region_anxi_cannei [db (maintenance), tx 1]
ALTER ROLE "region_anxi_cannei" CONNECTION LIMIT 20;
-- alter role region_anxi_changqing [db (maintenance), tx 1]
ALTER ROLE "region_anxi_changqing" SET search_path = "changqing", "org";
-- alter role region_anxi_changqing [db (maintenance), tx 1]
ALTER ROLE "region_anxi_changqing" CONNECTION LIMIT 20;
-- alter role region_anxi_bailai [db (maintenance), tx 1]
ALTER ROLE "region_anxi_bailai" SET search_path = "bailai", "org";
-- alter role region_anxi_bailai [db (maintenance), tx 1]
ALTER ROLE "region_anxi_bailai" CONNECTION LIMIT 20;
-- alter role region_anxi_hushang [db (maintenance), tx 1]
ALTER ROLE "region_anxi_hushang" SET search_path = "hushang", "org";
-- alter role region_anxi_hushang [db (maintenance), tx 1]
ALTER ROLE "region_anxi_hushang" CONNECTION LIMIT 20;
-- alter role region_anxi_shangqing [db (maintenance), tx 1]
ALTER ROLE "region_anxi_shangqing" SET search_path = "shangqing", "org";
-- alter role region_anxi_shangqing [db (maintenance), tx 1]
ALTER ROLE "region_anxi_shangqing" CONNECTION LIMIT 20;
-- alter role region_anxi_daping [db (maintenance), tx 1]
ALTER ROLE "region_anxi_daping" SET search_path = "daping", "org";
-- alter role region_anxi_daping [db (maintenance), tx 1]
ALTER ROLE "region_anxi_daping" CONNECTION LIMIT 20;
-- alter role region_anxi_longjuan [db (maintenance), tx 1]
ALTER ROLE "region_anxi_longjuan" SET search_path = "longjuan", "org";
-- alter role region_anxi_longjuan [db (maintenance), tx 1]
ALTER ROLE "region_anxi_longjuan" CONNECTION LIMIT 20;
-- alter role region_anxi_lantian [db (maintenance), tx 1]
ALTER ROLE "region_anxi_lantian" SET search_path = "lantian", "org";
-- alter role region_anxi_lantian [db (maintenance), tx 1]
ALTER ROLE "region_anxi_lantian" CONNECTION LIMIT 20;
-- alter role region_anxi_xianghua [db (maintenance), tx 1]
ALTER ROLE "region_anxi_xianghua" SET search_path = "xianghua", "org";
-- alter role region_anxi_xianghua [db (maintenance), tx 1]
ALTER ROLE "region_anxi_xianghua" CONNECTION LIMIT 20;
-- alter role region_anxi_taozhou [db (maintenance), tx 1]
ALTER ROLE "region_anxi_taozhou" SET search_path = "taozhou", "org";
-- alter role region_anxi_taozhou [db (maintenance), tx 1]
ALTER ROLE "region_anxi_taozhou" CONNECTION LIMIT 20;
-- alter role region_anxi_futian [db (maintenance), tx 1]
ALTER ROLE "region_anxi_futian" SET search_path = "futian", "org";
-- alter role region_anxi_futian [db (maintenance), tx 1]
ALTER ROLE "region_anxi_futian" CONNECTION LIMIT 20;
-- grant membership of the administrator [db (maintenance), tx 1]
GRANT "region_anxi", "region_anxi_county", "region_anxi_supervisor", "region_anxi_fengcheng", "region_anxi_penglai", "region_anxi_hutou", "region_anxi_guanqiao", "region_anxi_jiandou", "region_anxi_chengxiang", "region_anxi_jingu", "region_anxi_longmen", "region_anxi_huqiu", "region_anxi_lutian", "region_anxi_gande", "region_anxi_kuidou", "region_anxi_xiping", "region_anxi_cannei", "region_anxi_changqing", "region_anxi_bailai", "region_anxi_hushang", "region_anxi_shangqing", "region_anxi_daping", "region_anxi_longjuan", "region_anxi_lantian", "region_anxi_xianghua", "region_anxi_taozhou", "region_anxi_futian" TO CURRENT_USER;
-- create database region_anxi [db (maintenance), tx 0]
CREATE DATABASE "region_anxi" OWNER "region_anxi";
-- alter database region_anxi [db (maintenance), tx 2]
COMMENT ON DATABASE "region_anxi" IS 'managed by region-operator for Region anxi (uid ) in cluster test-cluster';
-- revoke database region_anxi [db (maintenance), tx 2]
REVOKE ALL ON DATABASE "region_anxi" FROM PUBLIC;
-- grant database region_anxi [db (maintenance), tx 2]
GRANT CONNECT ON DATABASE "region_anxi" TO "region_anxi_county", "region_anxi_supervisor", "region_anxi_fengcheng", "region_anxi_penglai", "region_anxi_hutou", "region_anxi_guanqiao", "region_anxi_jiandou", "region_anxi_chengxiang", "region_anxi_jingu", "region_anxi_longmen", "region_anxi_huqiu", "region_anxi_lutian", "region_anxi_gande", "region_anxi_kuidou", "region_anxi_xiping", "region_anxi_cannei", "region_anxi_changqing", "region_anxi_bailai", "region_anxi_hushang", "region_anxi_shangqing", "region_anxi_daping", "region_anxi_longjuan", "region_anxi_lantian", "region_anxi_xianghua", "region_anxi_taozhou", "region_anxi_futian";
-- session role region_anxi [db region_anxi, tx 3]
SET LOCAL ROLE "region_anxi";
-- revoke schema public [db region_anxi, tx 3]
REVOKE ALL ON SCHEMA public FROM PUBLIC;
-- create schema county [db region_anxi, tx 3]
CREATE SCHEMA "county";
-- create schema org [db region_anxi, tx 3]
CREATE SCHEMA "org";
-- create schema fengcheng [db region_anxi, tx 3]
CREATE SCHEMA "fengcheng";
-- create schema penglai [db region_anxi, tx 3]
CREATE SCHEMA "penglai";
-- create schema hutou [db region_anxi, tx 3]
CREATE SCHEMA "hutou";
-- create schema guanqiao [db region_anxi, tx 3]
CREATE SCHEMA "guanqiao";
-- create schema jiandou [db region_anxi, tx 3]
CREATE SCHEMA "jiandou";
-- create schema chengxiang [db region_anxi, tx 3]
CREATE SCHEMA "chengxiang";
-- create schema jingu [db region_anxi, tx 3]
CREATE SCHEMA "jingu";
-- create schema longmen [db region_anxi, tx 3]
CREATE SCHEMA "longmen";
-- create schema huqiu [db region_anxi, tx 3]
CREATE SCHEMA "huqiu";
-- create schema lutian [db region_anxi, tx 3]
CREATE SCHEMA "lutian";
-- create schema gande [db region_anxi, tx 3]
CREATE SCHEMA "gande";
-- create schema kuidou [db region_anxi, tx 3]
CREATE SCHEMA "kuidou";
-- create schema xiping [db region_anxi, tx 3]
CREATE SCHEMA "xiping";
-- create schema cannei [db region_anxi, tx 3]
CREATE SCHEMA "cannei";
-- create schema changqing [db region_anxi, tx 3]
CREATE SCHEMA "changqing";
-- create schema bailai [db region_anxi, tx 3]
CREATE SCHEMA "bailai";
-- create schema hushang [db region_anxi, tx 3]
CREATE SCHEMA "hushang";
-- create schema shangqing [db region_anxi, tx 3]
CREATE SCHEMA "shangqing";
-- create schema daping [db region_anxi, tx 3]
CREATE SCHEMA "daping";
-- create schema longjuan [db region_anxi, tx 3]
CREATE SCHEMA "longjuan";
-- create schema lantian [db region_anxi, tx 3]
CREATE SCHEMA "lantian";
-- create schema xianghua [db region_anxi, tx 3]
CREATE SCHEMA "xianghua";
-- create schema taozhou [db region_anxi, tx 3]
CREATE SCHEMA "taozhou";
-- create schema futian [db region_anxi, tx 3]
CREATE SCHEMA "futian";
-- create table org.township [db region_anxi, tx 3]
CREATE TABLE "org"."township" (
			code text PRIMARY KEY,
			name text NOT NULL,
			display_name text NOT NULL,
			role_name name NOT NULL,
			class text NOT NULL DEFAULT '');
-- create table org.township_history [db region_anxi, tx 3]
CREATE TABLE "org"."township_history" (
			former_name text NOT NULL,
			former_code text NOT NULL,
			name text NOT NULL,
			code text NOT NULL,
			kind text NOT NULL,
			changed_at timestamptz NOT NULL DEFAULT pg_catalog.now(),
			PRIMARY KEY (former_name, former_code, name, code));
-- create table org.branch [db region_anxi, tx 3]
CREATE TABLE "org"."branch" (
			township_code text NOT NULL REFERENCES "org"."township" (code) ON DELETE CASCADE,
			name text NOT NULL,
			display_name text NOT NULL,
			kind text NOT NULL,
			code text,
			members integer NOT NULL,
			PRIMARY KEY (township_code, name));
-- alter table org.township [db region_anxi, tx 3]
ALTER TABLE "org"."township" ENABLE ROW LEVEL SECURITY;
-- alter table org.branch [db region_anxi, tx 3]
ALTER TABLE "org"."branch" ENABLE ROW LEVEL SECURITY;
-- create policy own_township [db region_anxi, tx 3]
CREATE POLICY own_township ON "org"."township" FOR SELECT USING (role_name = current_user);
-- create policy own_branches [db region_anxi, tx 3]
CREATE POLICY own_branches ON "org"."branch" FOR SELECT USING (EXISTS (SELECT 1 FROM "org"."township" t WHERE t.code = township_code AND t.role_name = current_user));
-- create policy all_townships [db region_anxi, tx 3]
CREATE POLICY all_townships ON "org"."township" FOR SELECT TO "region_anxi_county", "region_anxi_supervisor" USING (true);
-- create policy all_branches [db region_anxi, tx 3]
CREATE POLICY all_branches ON "org"."branch" FOR SELECT TO "region_anxi_county", "region_anxi_supervisor" USING (true);
-- grant schema county [db region_anxi, tx 3]
GRANT USAGE ON SCHEMA "county" TO "region_anxi_county";
-- grant schema county [db region_anxi, tx 3]
GRANT CREATE ON SCHEMA "county" TO "region_anxi_county";
-- grant schema org [db region_anxi, tx 3]
GRANT USAGE ON SCHEMA "org" TO "region_anxi_county";
-- grant schema county [db region_anxi, tx 3]
GRANT USAGE ON SCHEMA "county" TO "region_anxi_supervisor";
-- grant schema org [db region_anxi, tx 3]
GRANT USAGE ON SCHEMA "org" TO "region_anxi_supervisor";
-- grant schema fengcheng [db region_anxi, tx 3]
GRANT USAGE ON SCHEMA "fengcheng" TO "region_anxi_fengcheng";
-- grant schema fengcheng [db region_anxi, tx 3]
GRANT CREATE ON SCHEMA "fengcheng" TO "region_anxi_fengcheng";
-- grant schema org [db region_anxi, tx 3]
GRANT USAGE ON SCHEMA "org" TO "region_anxi_fengcheng";
-- grant schema fengcheng [db region_anxi, tx 3]
GRANT USAGE ON SCHEMA "fengcheng" TO "region_anxi_supervisor";
-- grant schema penglai [db region_anxi, tx 3]
GRANT USAGE ON SCHEMA "penglai" TO "region_anxi_penglai";
-- grant schema penglai [db region_anxi, tx 3]
GRANT CREATE ON SCHEMA "penglai" TO "region_anxi_penglai";
-- grant schema org [db region_anxi, tx 3]
GRANT USAGE ON SCHEMA "org" TO "region_anxi_penglai";
-- grant schema penglai [db region_anxi, tx 3]
GRANT USAGE ON SCHEMA "penglai" TO "region_anxi_supervisor";
-- grant schema hutou [db region_anxi, tx 3]
GRANT USAGE ON SCHEMA "hutou" TO "region_anxi_hutou";
-- grant schema hutou [db region_anxi, tx 3]
GRANT CREATE ON SCHEMA "hutou" TO "region_anxi_hutou";
-- grant schema org [db region_anxi, tx 3]
GRANT USAGE ON SCHEMA "org" TO "region_anxi_hutou";
-- grant schema hutou [db region_anxi, tx 3]
GRANT USAGE ON SCHEMA "hutou" TO "region_anxi_supervisor";
-- grant schema guanqiao [db region_anxi, tx 3]
GRANT USAGE ON SCHEMA "guanqiao" TO "region_anxi_guanqiao";
-- grant schema guanqiao [db region_anxi, tx 3]
GRANT CREATE ON SCHEMA "guanqiao" TO "region_anxi_guanqiao";
-- grant schema org [db region_anxi, tx 3]
GRANT USAGE ON SCHEMA "org" TO "region_anxi_guanqiao";
-- grant schema guanqiao [db region_anxi, tx 3]
GRANT USAGE ON SCHEMA "guanqiao" TO "region_anxi_supervisor";
-- grant schema jiandou [db region_anxi, tx 3]
GRANT USAGE ON SCHEMA "jiandou" TO "region_anxi_jiandou";
-- grant schema jiandou [db region_anxi, tx 3]
GRANT CREATE ON SCHEMA "jiandou" TO "region_anxi_jiandou";
-- grant schema org [db region_anxi, tx 3]
GRANT USAGE ON SCHEMA "org" TO "region_anxi_jiandou";
-- grant schema jiandou [db region_anxi, tx 3]
GRANT USAGE ON SCHEMA "jiandou" TO "region_anxi_supervisor";
-- grant schema chengxiang [db region_anxi, tx 3]
GRANT USAGE ON SCHEMA "chengxiang" TO "region_anxi_chengxiang";
-- grant schema chengxiang [db region_anxi, tx 3]
GRANT CREATE ON SCHEMA "chengxiang" TO "region_anxi_chengxiang";
-- grant schema org [db region_anxi, tx 3]
GRANT USAGE ON SCHEMA "org" TO "region_anxi_chengxiang";
-- grant schema chengxiang [db region_anxi, tx 3]
GRANT USAGE ON SCHEMA "chengxiang" TO "region_anxi_supervisor";
-- grant schema jingu [db region_anxi, tx 3]
GRANT USAGE ON SCHEMA "jingu" TO "region_anxi_jingu";
-- grant schema jingu [db region_anxi, tx 3]
GRANT CREATE ON SCHEMA "jingu" TO "region_anxi_jingu";
-- grant schema org [db region_anxi, tx 3]
GRANT USAGE ON SCHEMA "org" TO "region_anxi_jingu";
-- grant schema jingu [db region_anxi, tx 3]
GRANT USAGE ON SCHEMA "jingu" TO "region_anxi_supervisor";
-- grant schema longmen [db region_anxi, tx 3]
GRANT USAGE ON SCHEMA "longmen" TO "region_anxi_longmen";
-- grant schema longmen [db region_anxi, tx 3]
GRANT CREATE ON SCHEMA "longmen" TO "region_anxi_longmen";
-- grant schema org [db region_anxi, tx 3]
GRANT USAGE ON SCHEMA "org" TO "region_anxi_longmen";
-- grant schema longmen [db region_anxi, tx 3]
GRANT USAGE ON SCHEMA "longmen" TO "region_anxi_supervisor";
-- grant schema huqiu [db region_anxi, tx 3]
GRANT USAGE ON SCHEMA "huqiu" TO "region_anxi_huqiu";
-- grant schema huqiu [db region_anxi, tx 3]
GRANT CREATE ON SCHEMA "huqiu" TO "region_anxi_huqiu";
-- grant schema org [db region_anxi, tx 3]
GRANT USAGE ON SCHEMA "org" TO "region_anxi_huqiu";
-- grant schema huqiu [db region_anxi, tx 3]
GRANT USAGE ON SCHEMA "huqiu" TO "region_anxi_supervisor";
-- grant schema lutian [db region_anxi, tx 3]
GRANT USAGE ON SCHEMA "lutian" TO "region_anxi_lutian";
-- grant schema lutian [db region_anxi, tx 3]
GRANT CREATE ON SCHEMA "lutian" TO "region_anxi_lutian";
-- grant schema org [db region_anxi, tx 3]
GRANT USAGE ON SCHEMA "org" TO "region_anxi_lutian";
-- grant schema lutian [db region_anxi, tx 3]
GRANT USAGE ON SCHEMA "lutian" TO "region_anxi_supervisor";
-- grant schema gande [db region_anxi, tx 3]
GRANT USAGE ON SCHEMA "gande" TO "region_anxi_gande";
-- grant schema gande [db region_anxi, tx 3]
GRANT CREATE ON SCHEMA "gande" TO "region_anxi_gande";
-- grant schema org [db region_anxi, tx 3]
GRANT USAGE ON SCHEMA "org" TO "region_anxi_gande";
-- grant schema gande [db region_anxi, tx 3]
GRANT USAGE ON SCHEMA "gande" TO "region_anxi_supervisor";
-- grant schema kuidou [db region_anxi, tx 3]
GRANT USAGE ON SCHEMA "kuidou" TO "region_anxi_kuidou";
-- grant schema kuidou [db region_anxi, tx 3]
GRANT CREATE ON SCHEMA "kuidou" TO "region_anxi_kuidou";
-- grant schema org [db region_anxi, tx 3]
GRANT USAGE ON SCHEMA "org" TO "region_anxi_kuidou";
-- grant schema kuidou [db region_anxi, tx 3]
GRANT USAGE ON SCHEMA "kuidou" TO "region_anxi_supervisor";
-- grant schema xiping [db region_anxi, tx 3]
GRANT USAGE ON SCHEMA "xiping" TO "region_anxi_xiping";
-- grant schema xiping [db region_anxi, tx 3]
GRANT CREATE ON SCHEMA "xiping" TO "region_anxi_xiping";
-- grant schema org [db region_anxi, tx 3]
GRANT USAGE ON SCHEMA "org" TO "region_anxi_xiping";
-- grant schema xiping [db region_anxi, tx 3]
GRANT USAGE ON SCHEMA "xiping" TO "region_anxi_supervisor";
-- grant schema cannei [db region_anxi, tx 3]
GRANT USAGE ON SCHEMA "cannei" TO "region_anxi_cannei";
-- grant schema cannei [db region_anxi, tx 3]
GRANT CREATE ON SCHEMA "cannei" TO "region_anxi_cannei";
-- grant schema org [db region_anxi, tx 3]
GRANT USAGE ON SCHEMA "org" TO "region_anxi_cannei";
-- grant schema cannei [db region_anxi, tx 3]
GRANT USAGE ON SCHEMA "cannei" TO "region_anxi_supervisor";
-- grant schema changqing [db region_anxi, tx 3]
GRANT USAGE ON SCHEMA "changqing" TO "region_anxi_changqing";
-- grant schema changqing [db region_anxi, tx 3]
GRANT CREATE ON SCHEMA "changqing" TO "region_anxi_changqing";
-- grant schema org [db region_anxi, tx 3]
GRANT USAGE ON SCHEMA "org" TO "region_anxi_changqing";
-- grant schema changqing [db region_anxi, tx 3]
GRANT USAGE ON SCHEMA "changqing" TO "region_anxi_supervisor";
-- grant schema bailai [db region_anxi, tx 3]
GRANT USAGE ON SCHEMA "bailai" TO "region_anxi_bailai";
-- grant schema bailai [db region_anxi, tx 3]
GRANT CREATE ON SCHEMA "bailai" TO "region_anxi_bailai";
-- grant schema org [db region_anxi, tx 3]
GRANT USAGE ON SCHEMA "org" TO "region_anxi_bailai";
-- grant schema bailai [db region_anxi, tx 3]
GRANT USAGE ON SCHEMA "bailai" TO "region_anxi_supervisor";
-- grant schema hushang [db region_anxi, tx 3]
GRANT USAGE ON SCHEMA "hushang" TO "region_anxi_hushang";
-- grant schema hushang [db region_anxi, tx 3]
GRANT CREATE ON SCHEMA "hushang" TO "region_anxi_hushang";
-- grant schema org [db region_anxi, tx 3]
GRANT USAGE ON SCHEMA "org" TO "region_anxi_hushang";
-- grant schema hushang [db region_anxi, tx 3]
GRANT USAGE ON SCHEMA "hushang" TO "region_anxi_supervisor";
-- grant schema shangqing [db region_anxi, tx 3]
GRANT USAGE ON SCHEMA "shangqing" TO "region_anxi_shangqing";
-- grant schema shangqing [db region_anxi, tx 3]
GRANT CREATE ON SCHEMA "shangqing" TO "region_anxi_shangqing";
-- grant schema org [db region_anxi, tx 3]
GRANT USAGE ON SCHEMA "org" TO "region_anxi_shangqing";
-- grant schema shangqing [db region_anxi, tx 3]
GRANT USAGE ON SCHEMA "shangqing" TO "region_anxi_supervisor";
-- grant schema daping [db region_anxi, tx 3]
GRANT USAGE ON SCHEMA "daping" TO "region_anxi_daping";
-- grant schema daping [db region_anxi, tx 3]
GRANT CREATE ON SCHEMA "daping" TO "region_anxi_daping";
-- grant schema org [db region_anxi, tx 3]
GRANT USAGE ON SCHEMA "org" TO "region_anxi_daping";
-- grant schema daping [db region_anxi, tx 3]
GRANT USAGE ON SCHEMA "daping" TO "region_anxi_supervisor";
-- grant schema longjuan [db region_anxi, tx 3]
GRANT USAGE ON SCHEMA "longjuan" TO "region_anxi_longjuan";
-- grant schema longjuan [db region_anxi, tx 3]
GRANT CREATE ON SCHEMA "longjuan" TO "region_anxi_longjuan";
-- grant schema org [db region_anxi, tx 3]
GRANT USAGE ON SCHEMA "org" TO "region_anxi_longjuan";
-- grant schema longjuan [db region_anxi, tx 3]
GRANT USAGE ON SCHEMA "longjuan" TO "region_anxi_supervisor";
-- grant schema lantian [db region_anxi, tx 3]
GRANT USAGE ON SCHEMA "lantian" TO "region_anxi_lantian";
-- grant schema lantian [db region_anxi, tx 3]
GRANT CREATE ON SCHEMA "lantian" TO "region_anxi_lantian";
-- grant schema org [db region_anxi, tx 3]
GRANT USAGE ON SCHEMA "org" TO "region_anxi_lantian";
-- grant schema lantian [db region_anxi, tx 3]
GRANT USAGE ON SCHEMA "lantian" TO "region_anxi_supervisor";
-- grant schema xianghua [db region_anxi, tx 3]
GRANT USAGE ON SCHEMA "xianghua" TO "region_anxi_xianghua";
-- grant schema xianghua [db region_anxi, tx 3]
GRANT CREATE ON SCHEMA "xianghua" TO "region_anxi_xianghua";
-- grant schema org [db region_anxi, tx 3]
GRANT USAGE ON SCHEMA "org" TO "region_anxi_xianghua";
-- grant schema xianghua [db region_anxi, tx 3]
GRANT USAGE ON SCHEMA "xianghua" TO "region_anxi_supervisor";
-- grant schema taozhou [db region_anxi, tx 3]
GRANT USAGE ON SCHEMA "taozhou" TO "region_anxi_taozhou";
-- grant schema taozhou [db region_anxi, tx 3]
GRANT CREATE ON SCHEMA "taozhou" TO "region_anxi_taozhou";
-- grant schema org [db region_anxi, tx 3]
GRANT USAGE ON SCHEMA "org" TO "region_anxi_taozhou";
-- grant schema taozhou [db region_anxi, tx 3]
GRANT USAGE ON SCHEMA "taozhou" TO "region_anxi_supervisor";
-- grant schema futian [db region_anxi, tx 3]
GRANT USAGE ON SCHEMA "futian" TO "region_anxi_futian";
-- grant schema futian [db region_anxi, tx 3]
GRANT CREATE ON SCHEMA "futian" TO "region_anxi_futian";
-- grant schema org [db region_anxi, tx 3]
GRANT USAGE ON SCHEMA "org" TO "region_anxi_futian";
-- grant schema futian [db region_anxi, tx 3]
GRANT USAGE ON SCHEMA "futian" TO "region_anxi_supervisor";
-- grant table org.township [db region_anxi, tx 3]
GRANT SELECT ON "org"."township" TO "region_anxi_county";
-- grant table org.township [db region_anxi, tx 3]
GRANT SELECT ON "org"."township" TO "region_anxi_supervisor";
-- grant table org.township [db region_anxi, tx 3]
GRANT SELECT ON "org"."township" TO "region_anxi_fengcheng";
-- grant table org.township [db region_anxi, tx 3]
GRANT SELECT ON "org"."township" TO "region_anxi_penglai";
-- grant table org.township [db region_anxi, tx 3]
GRANT SELECT ON "org"."township" TO "region_anxi_hutou";
-- grant table org.township [db region_anxi, tx 3]
GRANT SELECT ON "org"."township" TO "region_anxi_guanqiao";
-- grant table org.township [db region_anxi, tx 3]
GRANT SELECT ON "org"."township" TO "region_anxi_jiandou";
-- grant table org.township [db region_anxi, tx 3]
GRANT SELECT ON "org"."township" TO "region_anxi_chengxiang";
-- grant table org.township [db region_anxi, tx 3]
GRANT SELECT ON "org"."township" TO "region_anxi_jingu";
-- grant table org.township [db region_anxi, tx 3]
GRANT SELECT ON "org"."township" TO "region_anxi_longmen";
-- grant table org.township [db region_anxi, tx 3]
GRANT SELECT ON "org"."township" TO "region_anxi_huqiu";
-- grant table org.township [db region_anxi, tx 3]
GRANT SELECT ON "org"."township" TO "region_anxi_lutian";
-- grant table org.township [db region_anxi, tx 3]
GRANT SELECT ON "org"."township" TO "region_anxi_gande";
-- grant table org.township [db region_anxi, tx 3]
GRANT SELECT ON "org"."township" TO "region_anxi_kuidou";
-- grant table org.township [db region_anxi, tx 3]
GRANT SELECT ON "org"."township" TO "region_anxi_xiping";
-- grant table org.township [db region_anxi, tx 3]
GRANT SELECT ON "org"."township" TO "region_anxi_cannei";
-- grant table org.township [db region_anxi, tx 3]
GRANT SELECT ON "org"."township" TO "region_anxi_changqing";
-- grant table org.township [db region_anxi, tx 3]
GRANT SELECT ON "org"."township" TO "region_anxi_bailai";
-- grant table org.township [db region_anxi, tx 3]
GRANT SELECT ON "org"."township" TO "region_anxi_hushang";
-- grant table org.township [db region_anxi, tx 3]
GRANT SELECT ON "org"."township" TO "region_anxi_shangqing";
-- grant table org.township [db region_anxi, tx 3]
GRANT SELECT ON "org"."township" TO "region_anxi_daping";
-- grant table org.township [db region_anxi, tx 3]
GRANT SELECT ON "org"."township" TO "region_anxi_longjuan";
-- grant table org.township [db region_anxi, tx 3]
GRANT SELECT ON "org"."township" TO "region_anxi_lantian";
-- grant table org.township [db region_anxi, tx 3]
GRANT SELECT ON "org"."township" TO "region_anxi_xianghua";
-- grant table org.township [db region_anxi, tx 3]
GRANT SELECT ON "org"."township" TO "region_anxi_taozhou";
-- grant table org.township [db region_anxi, tx 3]
GRANT SELECT ON "org"."township" TO "region_anxi_futian";
-- grant table org.branch [db region_anxi, tx 3]
GRANT SELECT ON "org"."branch" TO "region_anxi_county";
-- grant table org.branch [db region_anxi, tx 3]
GRANT SELECT ON "org"."branch" TO "region_anxi_supervisor";
-- grant table org.branch [db region_anxi, tx 3]
GRANT SELECT ON "org"."branch" TO "region_anxi_fengcheng";
-- grant table org.branch [db region_anxi, tx 3]
GRANT SELECT ON "org"."branch" TO "region_anxi_penglai";
-- grant table org.branch [db region_anxi, tx 3]
GRANT SELECT ON "org"."branch" TO "region_anxi_hutou";
-- grant table org.branch [db region_anxi, tx 3]
GRANT SELECT ON "org"."branch" TO "region_anxi_guanqiao";
-- grant table org.branch [db region_anxi, tx 3]
GRANT SELECT ON "org"."branch" TO "region_anxi_jiandou";
-- grant table org.branch [db region_anxi, tx 3]
GRANT SELECT ON "org"."branch" TO "region_anxi_chengxiang";
-- grant table org.branch [db region_anxi, tx 3]
GRANT SELECT ON "org"."branch" TO "region_anxi_jingu";
-- grant table org.branch [db region_anxi, tx 3]
GRANT SELECT ON "org"."branch" TO "region_anxi_longmen";
-- grant table org.branch [db region_anxi, tx 3]
GRANT SELECT ON "org"."branch" TO "region_anxi_huqiu";
-- grant table org.branch [db region_anxi, tx 3]
GRANT SELECT ON "org"."branch" TO "region_anxi_lutian";
-- grant table org.branch [db region_anxi, tx 3]
GRANT SELECT ON "org"."branch" TO "region_anxi_gande";
-- grant table org.branch [db region_anxi, tx 3]
GRANT SELECT ON "org"."branch" TO "region_anxi_kuidou";
-- grant table org.branch [db region_anxi, tx 3]
GRANT SELECT ON "org"."branch" TO "region_anxi_xiping";
-- grant table org.branch [db region_anxi, tx 3]
GRANT SELECT ON "org"."branch" TO "region_anxi_cannei";
-- grant table org.branch [db region_anxi, tx 3]
GRANT SELECT ON "org"."branch" TO "region_anxi_changqing";
-- grant table org.branch [db region_anxi, tx 3]
GRANT SELECT ON "org"."branch" TO "region_anxi_bailai";
-- grant table org.branch [db region_anxi, tx 3]
GRANT SELECT ON "org"."branch" TO "region_anxi_hushang";
-- grant table org.branch [db region_anxi, tx 3]
GRANT SELECT ON "org"."branch" TO "region_anxi_shangqing";
-- grant table org.branch [db region_anxi, tx 3]
GRANT SELECT ON "org"."branch" TO "region_anxi_daping";
-- grant table org.branch [db region_anxi, tx 3]
GRANT SELECT ON "org"."branch" TO "region_anxi_longjuan";
-- grant table org.branch [db region_anxi, tx 3]
GRANT SELECT ON "org"."branch" TO "region_anxi_lantian";
-- grant table org.branch [db region_anxi, tx 3]
GRANT SELECT ON "org"."branch" TO "region_anxi_xianghua";
-- grant table org.branch [db region_anxi, tx 3]
GRANT SELECT ON "org"."branch" TO "region_anxi_taozhou";
-- grant table org.branch [db region_anxi, tx 3]
GRANT SELECT ON "org"."branch" TO "region_anxi_futian";
-- grant table org.township_history [db region_anxi, tx 3]
GRANT SELECT ON "org"."township_history" TO "region_anxi_county";
-- grant table org.township_history [db region_anxi, tx 3]
GRANT SELECT ON "org"."township_history" TO "region_anxi_supervisor";
-- session administrator [db region_anxi, tx 3]
RESET ROLE;
-- session role region_anxi [db region_anxi, tx 4]
SET LOCAL ROLE "region_anxi";
-- dml row org.township 350524100 [db region_anxi, tx 4]
INSERT INTO org.township (code, name, display_name, role_name, class) VALUES ($1, $2, $3, $4, $5) ON CONFLICT (code) DO UPDATE SET name = EXCLUDED.name, display_name = EXCLUDED.display_name, role_name = EXCLUDED.role_name, class = EXCLUDED.class; -- args [350524100 fengcheng 凤城镇 region_anxi_fengcheng town]
-- dml row org.township 350524101 [db region_anxi, tx 4]
INSERT INTO org.township (code, name, display_name, role_name, class) VALUES ($1, $2, $3, $4, $5) ON CONFLICT (code) DO UPDATE SET name = EXCLUDED.name, display_name = EXCLUDED.display_name, role_name = EXCLUDED.role_name, class = EXCLUDED.class; -- args [350524101 penglai 蓬莱镇 region_anxi_penglai town]
-- dml row org.township 350524102 [db region_anxi, tx 4]
INSERT INTO org.township (code, name, display_name, role_name, class) VALUES ($1, $2, $3, $4, $5) ON CONFLICT (code) DO UPDATE SET name = EXCLUDED.name, display_name = EXCLUDED.display_name, role_name = EXCLUDED.role_name, class = EXCLUDED.class; -- args [350524102 hutou 湖头镇 region_anxi_hutou town]
-- dml row org.township 350524103 [db region_anxi, tx 4]
INSERT INTO org.township (code, name, display_name, role_name, class) VALUES ($1, $2, $3, $4, $5) ON CONFLICT (code) DO UPDATE SET name = EXCLUDED.name, display_name = EXCLUDED.display_name, role_name = EXCLUDED.role_name, class = EXCLUDED.class; -- args [350524103 guanqiao 官桥镇 region_anxi_guanqiao town]
-- dml row org.township 350524104 [db region_anxi, tx 4]
INSERT INTO org.township (code, name, display_name, role_name, class) VALUES ($1, $2, $3, $4, $5) ON CONFLICT (code) DO UPDATE SET name = EXCLUDED.name, display_name = EXCLUDED.display_name, role_name = EXCLUDED.role_name, class = EXCLUDED.class; -- args [350524104 jiandou 剑斗镇 region_anxi_jiandou town]
-- dml row org.township 350524105 [db region_anxi, tx 4]
INSERT INTO org.township (code, name, display_name, role_name, class) VALUES ($1, $2, $3, $4, $5) ON CONFLICT (code) DO UPDATE SET name = EXCLUDED.name, display_name = EXCLUDED.display_name, role_name = EXCLUDED.role_name, class = EXCLUDED.class; -- args [350524105 chengxiang 城厢镇 region_anxi_chengxiang town]
-- dml row org.township 350524106 [db region_anxi, tx 4]
INSERT INTO org.township (code, name, display_name, role_name, class) VALUES ($1, $2, $3, $4, $5) ON CONFLICT (code) DO UPDATE SET name = EXCLUDED.name, display_name = EXCLUDED.display_name, role_name = EXCLUDED.role_name, class = EXCLUDED.class; -- args [350524106 jingu 金谷镇 region_anxi_jingu town]
-- dml row org.township 350524107 [db region_anxi, tx 4]
INSERT INTO org.township (code, name, display_name, role_name, class) VALUES ($1, $2, $3, $4, $5) ON CONFLICT (code) DO UPDATE SET name = EXCLUDED.name, display_name = EXCLUDED.display_name, role_name = EXCLUDED.role_name, class = EXCLUDED.class; -- args [350524107 longmen 龙门镇 region_anxi_longmen town]
-- dml row org.township 350524108 [db region_anxi, tx 4]
INSERT INTO org.township (code, name, display_name, role_name, class) VALUES ($1, $2, $3, $4, $5) ON CONFLICT (code) DO UPDATE SET name = EXCLUDED.name, display_name = EXCLUDED.display_name, role_name = EXCLUDED.role_name, class = EXCLUDED.class; -- args [350524108 huqiu 虎邱镇 region_anxi_huqiu town]
-- dml row org.township 350524109 [db region_anxi, tx 4]
INSERT INTO org.township (code, name, display_name, role_name, class) VALUES ($1, $2, $3, $4, $5) ON CONFLICT (code) DO UPDATE SET name = EXCLUDED.name, display_name = EXCLUDED.display_name, role_name = EXCLUDED.role_name, class = EXCLUDED.class; -- args [350524109 lutian 芦田镇 region_anxi_lutian town]
-- dml row org.township 350524110 [db region_anxi, tx 4]
INSERT INTO org.township (code, name, display_name, role_name, class) VALUES ($1, $2, $3, $4, $5) ON CONFLICT (code) DO UPDATE SET name = EXCLUDED.name, display_name = EXCLUDED.display_name, role_name = EXCLUDED.role_name, class = EXCLUDED.class; -- args [350524110 gande 感德镇 region_anxi_gande town]
-- dml row org.township 350524111 [db region_anxi, tx 4]
INSERT INTO org.township (code, name, display_name, role_name, class) VALUES ($1, $2, $3, $4, $5) ON CONFLICT (code) DO UPDATE SET name = EXCLUDED.name, display_name = EXCLUDED.display_name, role_name = EXCLUDED.role_name, class = EXCLUDED.class; -- args [350524111 kuidou 魁斗镇 region_anxi_kuidou town]
-- dml row org.township 350524112 [db region_anxi, tx 4]
INSERT INTO org.township (code, name, display_name, role_name, class) VALUES ($1, $2, $3, $4, $5) ON CONFLICT (code) DO UPDATE SET name = EXCLUDED.name, display_name = EXCLUDED.display_name, role_name = EXCLUDED.role_name, class = EXCLUDED.class; -- args [350524112 xiping 西坪镇 region_anxi_xiping town]
-- dml row org.township 350524113 [db region_anxi, tx 4]
INSERT INTO org.township (code, name, display_name, role_name, class) VALUES ($1, $2, $3, $4, $5) ON CONFLICT (code) DO UPDATE SET name = EXCLUDED.name, display_name = EXCLUDED.display_name, role_name = EXCLUDED.role_name, class = EXCLUDED.class; -- args [350524113 cannei 参内镇 region_anxi_cannei town]
-- dml row org.township 350524114 [db region_anxi, tx 4]
INSERT INTO org.township (code, name, display_name, role_name, class) VALUES ($1, $2, $3, $4, $5) ON CONFLICT (code) DO UPDATE SET name = EXCLUDED.name, display_name = EXCLUDED.display_name, role_name = EXCLUDED.role_name, class = EXCLUDED.class; -- args [350524114 changqing 长卿镇 region_anxi_changqing town]
-- dml row org.township 350524201 [db region_anxi, tx 4]
INSERT INTO org.township (code, name, display_name, role_name, class) VALUES ($1, $2, $3, $4, $5) ON CONFLICT (code) DO UPDATE SET name = EXCLUDED.name, display_name = EXCLUDED.display_name, role_name = EXCLUDED.role_name, class = EXCLUDED.class; -- args [350524201 bailai 白濑乡 region_anxi_bailai township]
-- dml row org.township 350524202 [db region_anxi, tx 4]
INSERT INTO org.township (code, name, display_name, role_name, class) VALUES ($1, $2, $3, $4, $5) ON CONFLICT (code) DO UPDATE SET name = EXCLUDED.name, display_name = EXCLUDED.display_name, role_name = EXCLUDED.role_name, class = EXCLUDED.class; -- args [350524202 hushang 湖上乡 region_anxi_hushang township]
-- dml row org.township 350524203 [db region_anxi, tx 4]
INSERT INTO org.township (code, name, display_name, role_name, class) VALUES ($1, $2, $3, $4, $5) ON CONFLICT (code) DO UPDATE SET name = EXCLUDED.name, display_name = EXCLUDED.display_name, role_name = EXCLUDED.role_name, class = EXCLUDED.class; -- args [350524203 shangqing 尚卿乡 region_anxi_shangqing township]
-- dml row org.township 350524204 [db region_anxi, tx 4]
INSERT INTO org.township (code, name, display_name, role_name, class) VALUES ($1, $2, $3, $4, $5) ON CONFLICT (code) DO UPDATE SET name = EXCLUDED.name, display_name = EXCLUDED.display_name, role_name = EXCLUDED.role_name, class = EXCLUDED.class; -- args [350524204 daping 大坪乡 region_anxi_daping township]
-- dml row org.township 350524205 [db region_anxi, tx 4]
INSERT INTO org.township (code, name, display_name, role_name, class) VALUES ($1, $2, $3, $4, $5) ON CONFLICT (code) DO UPDATE SET name = EXCLUDED.name, display_name = EXCLUDED.display_name, role_name = EXCLUDED.role_name, class = EXCLUDED.class; -- args [350524205 longjuan 龙涓乡 region_anxi_longjuan township]
-- dml row org.township 350524207 [db region_anxi, tx 4]
INSERT INTO org.township (code, name, display_name, role_name, class) VALUES ($1, $2, $3, $4, $5) ON CONFLICT (code) DO UPDATE SET name = EXCLUDED.name, display_name = EXCLUDED.display_name, role_name = EXCLUDED.role_name, class = EXCLUDED.class; -- args [350524207 lantian 蓝田乡 region_anxi_lantian township]
-- dml row org.township 350524208 [db region_anxi, tx 4]
INSERT INTO org.township (code, name, display_name, role_name, class) VALUES ($1, $2, $3, $4, $5) ON CONFLICT (code) DO UPDATE SET name = EXCLUDED.name, display_name = EXCLUDED.display_name, role_name = EXCLUDED.role_name, class = EXCLUDED.class; -- args [350524208 xianghua 祥华乡 region_anxi_xianghua township]
-- dml row org.township 350524209 [db region_anxi, tx 4]
INSERT INTO org.township (code, name, display_name, role_name, class) VALUES ($1, $2, $3, $4, $5) ON CONFLICT (code) DO UPDATE SET name = EXCLUDED.name, display_name = EXCLUDED.display_name, role_name = EXCLUDED.role_name, class = EXCLUDED.class; -- args [350524209 taozhou 桃舟乡 region_anxi_taozhou township]
-- dml row org.township 350524210 [db region_anxi, tx 4]
INSERT INTO org.township (code, name, display_name, role_name, class) VALUES ($1, $2, $3, $4, $5) ON CONFLICT (code) DO UPDATE SET name = EXCLUDED.name, display_name = EXCLUDED.display_name, role_name = EXCLUDED.role_name, class = EXCLUDED.class; -- args [350524210 futian 福田乡 region_anxi_futian township]
-- dml row org.branch 350524100/jiguan [db region_anxi, tx 4]
INSERT INTO org.branch (township_code, name, display_name, kind, code, members) VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT (township_code, name) DO UPDATE SET display_name = EXCLUDED.display_name, kind = EXCLUDED.kind, code = EXCLUDED.code, members = EXCLUDED.members; -- args [350524100 jiguan 凤城镇机关党支部 Organ <nil> 31]
-- dml row org.branch 350524100/zhongxin-xiaoxue [db region_anxi, tx 4]
INSERT INTO org.branch (township_code, name, display_name, kind, code, members) VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT (township_code, name) DO UPDATE SET display_name = EXCLUDED.display_name, kind = EXCLUDED.kind, code = EXCLUDED.code, members = EXCLUDED.members; -- args [350524100 zhongxin-xiaoxue 凤城镇中心小学党支部 School <nil> 12]
-- dml row org.branch 350524100/weishengyuan [db region_anxi, tx 4]
INSERT INTO org.branch (township_code, name, display_name, kind, code, members) VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT (township_code, name) DO UPDATE SET display_name = EXCLUDED.display_name, kind = EXCLUDED.kind, code = EXCLUDED.code, members = EXCLUDED.members; -- args [350524100 weishengyuan 凤城镇卫生院党支部 Other <nil> 8]
-- dml row org.branch 350524101/jiguan [db region_anxi, tx 4]
INSERT INTO org.branch (township_code, name, display_name, kind, code, members) VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT (township_code, name) DO UPDATE SET display_name = EXCLUDED.display_name, kind = EXCLUDED.kind, code = EXCLUDED.code, members = EXCLUDED.members; -- args [350524101 jiguan 蓬莱镇机关党支部 Organ <nil> 38]
-- dml row org.branch 350524101/zhongxin-xiaoxue [db region_anxi, tx 4]
INSERT INTO org.branch (township_code, name, display_name, kind, code, members) VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT (township_code, name) DO UPDATE SET display_name = EXCLUDED.display_name, kind = EXCLUDED.kind, code = EXCLUDED.code, members = EXCLUDED.members; -- args [350524101 zhongxin-xiaoxue 蓬莱镇中心小学党支部 School <nil> 17]
-- dml row org.branch 350524101/weishengyuan [db region_anxi, tx 4]
INSERT INTO org.branch (township_code, name, display_name, kind, code, members) VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT (township_code, name) DO UPDATE SET display_name = EXCLUDED.display_name, kind = EXCLUDED.kind, code = EXCLUDED.code, members = EXCLUDED.members; -- args [350524101 weishengyuan 蓬莱镇卫生院党支部 Other <nil> 11]
-- dml row org.branch 350524102/jiguan [db region_anxi, tx 4]
INSERT INTO org.branch (township_code, name, display_name, kind, code, members) VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT (township_code, name) DO UPDATE SET display_name = EXCLUDED.display_name, kind = EXCLUDED.kind, code = EXCLUDED.code, members = EXCLUDED.members; -- args [350524102 jiguan 湖头镇机关党支部 Organ <nil> 45]
-- dml row org.branch 350524102/zhongxin-xiaoxue [db region_anxi, tx 4]
INSERT INTO org.branch (township_code, name, display_name, kind, code, members) VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT (township_code, name) DO UPDATE SET display_name = EXCLUDED.display_name, kind = EXCLUDED.kind, code = EXCLUDED.code, members = EXCLUDED.members; -- args [350524102 zhongxin-xiaoxue 湖头镇中心小学党支部 School <nil> 22]
-- dml row org.branch 350524102/weishengyuan [db region_anxi, tx 4]
INSERT INTO org.branch (township_code, name, display_name, kind, code, members) VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT (township_code, name) DO UPDATE SET display_name = EXCLUDED.display_name, kind = EXCLUDED.kind, code = EXCLUDED.code, members = EXCLUDED.members; -- args [350524102 weishengyuan 湖头镇卫生院党支部 Other <nil> 14]
-- dml row org.branch 350524103/jiguan [db region_anxi, tx 4]
INSERT INTO org.branch (township_code, name, display_name, kind, code, members) VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT (township_code, name) DO UPDATE SET display_name = EXCLUDED.display_name, kind = EXCLUDED.kind, code = EXCLUDED.code, members = EXCLUDED.members; -- args [350524103 jiguan 官桥镇机关党支部 Organ <nil> 52]
-- dml row org.branch 350524103/zhongxin-xiaoxue [db region_anxi, tx 4]
INSERT INTO org.branch (township_code, name, display_name, kind, code, members) VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT (township_code, name) DO UPDATE SET display_name = EXCLUDED.display_name, kind = EXCLUDED.kind, code = EXCLUDED.code, members = EXCLUDED.members; -- args [350524103 zhongxin-xiaoxue 官桥镇中心小学党支部 School <nil> 27]
-- dml row org.branch 350524103/weishengyuan [db region_anxi, tx 4]
INSERT INTO org.branch (township_code, name, display_name, kind, code, members) VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT (township_code, name) DO UPDATE SET display_name = EXCLUDED.display_name, kind = EXCLUDED.kind, code = EXCLUDED.code, members = EXCLUDED.members; -- args [350524103 weishengyuan 官桥镇卫生院党支部 Other <nil> 17]
-- dml row org.branch 350524104/jiguan [db region_anxi, tx 4]
INSERT INTO org.branch (township_code, name, display_name, kind, code, members) VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT (township_code, name) DO UPDATE SET display_name = EXCLUDED.display_name, kind = EXCLUDED.kind, code = EXCLUDED.code, members = EXCLUDED.members; -- args [350524104 jiguan 剑斗镇机关党支部 Organ <nil> 59]
-- dml row org.branch 350524104/zhongxin-xiaoxue [db region_anxi, tx 4]
INSERT INTO org.branch (township_code, name, display_name, kind, code, members) VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT (township_code, name) DO UPDATE SET display_name = EXCLUDED.display_name, kind = EXCLUDED.kind, code = EXCLUDED.code, members = EXCLUDED.members; -- args [350524104 zhongxin-xiaoxue 剑斗镇中心小学党支部 School <nil> 12]
-- dml row org.branch 350524104/weishengyuan [db region_anxi, tx 4]
INSERT INTO org.branch (township_code, name, display_name, kind, code, members) VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT (township_code, name) DO UPDATE SET display_name = EXCLUDED.display_name, kind = EXCLUDED.kind, code = EXCLUDED.code, members = EXCLUDED.members; -- args [350524104 weishengyuan 剑斗镇卫生院党支部 Other <nil> 20]
-- dml row org.branch 350524105/jiguan [db region_anxi, tx 4]
INSERT INTO org.branch (township_code, name, display_name, kind, code, members) VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT (township_code, name) DO UPDATE SET display_name = EXCLUDED.display_name, kind = EXCLUDED.kind, code = EXCLUDED.code, members = EXCLUDED.members; -- args [350524105 jiguan 城厢镇机关党支部 Organ <nil> 66]
-- dml row org.branch 350524105/zhongxin-xiaoxue [db region_anxi, tx 4]
INSERT INTO org.branch (township_code, name, display_name, kind, code, members) VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT (township_code, name) DO UPDATE SET display_name = EXCLUDED.display_name, kind = EXCLUDED.kind, code = EXCLUDED.code, members = EXCLUDED.members; -- args [350524105 zhongxin-xiaoxue 城厢镇中心小学党支部 School <nil> 17]
-- dml row org.branch 350524105/weishengyuan [db region_anxi, tx 4]
INSERT INTO org.branch (township_code, name, display_name, kind, code, members) VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT (township_code, name) DO UPDATE SET display_name = EXCLUDED.display_name, kind = EXCLUDED.kind, code = EXCLUDED.code, members = EXCLUDED.members; -- args [350524105 weishengyuan 城厢镇卫生院党支部 Other <nil> 8]
-- dml row org.branch 350524106/jiguan [db region_anxi, tx 4]
INSERT INTO org.branch (township_code, name, display_name, kind, code, members) VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT (township_code, name) DO UPDATE SET display_name = EXCLUDED.display_name, kind = EXCLUDED.kind, code = EXCLUDED.code, members = EXCLUDED.members; -- args [350524106 jiguan 金谷镇机关党支部 Organ <nil> 33]
-- dml row org.branch 350524106/zhongxin-xiaoxue [db region_anxi, tx 4]
INSERT INTO org.branch (township_code, name, display_name, kind, code, members) VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT (township_code, name) DO UPDATE SET display_name = EXCLUDED.display_name, kind = EXCLUDED.kind, code = EXCLUDED.code, members = EXCLUDED.members; -- args [350524106 zhongxin-xiaoxue 金谷镇中心小学党支部 School <nil> 22]
-- dml row org.branch 350524106/weishengyuan [db region_anxi, tx 4]
INSERT INTO org.branch (township_code, name, display_name, kind, code, members) VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT (township_code, name) DO UPDATE SET display_name = EXCLUDED.display_name, kind = EXCLUDED.kind, code = EXCLUDED.code, members = EXCLUDED.members; -- args [350524106 weishengyuan 金谷镇卫生院党支部 Other <nil> 11]
-- dml row org.branch 350524107/jiguan [db region_anxi, tx 4]
INSERT INTO org.branch (township_code, name, display_name, kind, code, members) VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT (township_code, name) DO UPDATE SET display_name = EXCLUDED.display_name, kind = EXCLUDED.kind, code = EXCLUDED.code, members = EXCLUDED.members; -- args [350524107 jiguan 龙门镇机关党支部 Organ <nil> 40]
-- dml row org.branch 350524107/zhongxin-xiaoxue [db region_anxi, tx 4]
INSERT INTO org.branch (township_code, name, display_name, kind, code, members) VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT (township_code, name) DO UPDATE SET display_name = EXCLUDED.display_name, kind = EXCLUDED.kind, code = EXCLUDED.code, members = EXCLUDED.members; -- args [350524107 zhongxin-xiaoxue 龙门镇中心小学党支部 School <nil> 27]
-- dml row org.branch 350524107/weishengyuan [db region_anxi, tx 4]
INSERT INTO org.branch (township_code, name, display_name, kind, code, members) VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT (township_code, name) DO UPDATE SET display_name = EXCLUDED.display_name, kind = EXCLUDED.kind, code = EXCLUDED.code, members = EXCLUDED.members; -- args [350524107 weishengyuan 龙门镇卫生院党支部 Other <nil> 14]
-- dml row org.branch 350524108/jiguan [db region_anxi, tx 4]
INSERT INTO org.branch (township_code, name, display_name, kind, code, members) VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT (township_code, name) DO UPDATE SET display_name = EXCLUDED.display_name, kind = EXCLUDED.kind, code = EXCLUDED.code, members = EXCLUDED.members; -- args [350524108 jiguan 虎邱镇机关党支部 Organ <nil> 47]
-- dml row org.branch 350524108/zhongxin-xiaoxue [db region_anxi, tx 4]
INSERT INTO org.branch (township_code, name, display_name, kind, code, members) VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT (township_code, name) DO UPDATE SET display_name = EXCLUDED.display_name, kind = EXCLUDED.kind, code = EXCLUDED.code, members = EXCLUDED.members; -- args [350524108 zhongxin-xiaoxue 虎邱镇中心小学党支部 School <nil> 12]
-- dml row org.branch 350524108/weishengyuan [db region_anxi, tx 4]
INSERT INTO org.branch (township_code, name, display_name, kind, code, members) VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT (township_code, name) DO UPDATE SET display_name = EXCLUDED.display_name, kind = EXCLUDED.kind, code = EXCLUDED.code, members = EXCLUDED.members; -- args [350524108 weishengyuan 虎邱镇卫生院党支部 Other <nil> 17]
-- dml row org.branch 350524109/jiguan [db region_anxi, tx 4]
INSERT INTO org.branch (township_code, name, display_name, kind, code, members) VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT (township_code, name) DO UPDATE SET display_name = EXCLUDED.display_name, kind = EXCLUDED.kind, code = EXCLUDED.code, members = EXCLUDED.members; -- args [350524109 jiguan 芦田镇机关党支部 Organ <nil> 54]
-- dml row org.branch 350524109/zhongxin-xiaoxue [db region_anxi, tx 4]
INSERT INTO org.branch (township_code, name, display_name, kind, code, members) VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT (township_code, name) DO UPDATE SET display_name = EXCLUDED.display_name, kind = EXCLUDED.kind, code = EXCLUDED.code, members = EXCLUDED.members; -- args [350524109 zhongxin-xiaoxue 芦田镇中心小学党支部 School <nil> 17]
-- dml row org.branch 350524109/weishengyuan [db region_anxi, tx 4]
INSERT INTO org.branch (township_code, name, display_name, kind, code, members) VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT (township_code, name) DO UPDATE SET display_name = EXCLUDED.display_name, kind = EXCLUDED.kind, code = EXCLUDED.code, members = EXCLUDED.members; -- args [350524109 weishengyuan 芦田镇卫生院党支部 Other <nil> 20]
-- dml row org.branch 350524110/jiguan [db region_anxi, tx 4]
INSERT INTO org.branch (township_code, name, display_name, kind, code, members) VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT (township_code, name) DO UPDATE SET display_name = EXCLUDED.display_name, kind = EXCLUDED.kind, code = EXCLUDED.code, members = EXCLUDED.members; -- args [350524110 jiguan 感德镇机关党支部 Organ <nil> 61]
-- dml row org.branch 350524110/zhongxin-xiaoxue [db region_anxi, tx 4]
INSERT INTO org.branch (township_code, name, display_name, kind, code, members) VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT (township_code, name) DO UPDATE SET display_name = EXCLUDED.display_name, kind = EXCLUDED.kind, code = EXCLUDED.code, members = EXCLUDED.members; -- args [350524110 zhongxin-xiaoxue 感德镇中心小学党支部 School <nil> 22]
-- dml row org.branch 350524110/weishengyuan [db region_anxi, tx 4]
INSERT INTO org.branch (township_code, name, display_name, kind, code, members) VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT (township_code, name) DO UPDATE SET display_name = EXCLUDED.display_name, kind = EXCLUDED.kind, code = EXCLUDED.code, members = EXCLUDED.members; -- args [350524110 weishengyuan 感德镇卫生院党支部 Other <nil> 8]
-- dml row org.branch 350524111/jiguan [db region_anxi, tx 4]
INSERT INTO org.branch (township_code, name, display_name, kind, code, members) VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT (township_code, name) DO UPDATE SET display_name = EXCLUDED.display_name, kind = EXCLUDED.kind, code = EXCLUDED.code, members = EXCLUDED.members; -- args [350524111 jiguan 魁斗镇机关党支部 Organ <nil> 68]
-- dml row org.branch 350524111/zhongxin-xiaoxue [db region_anxi, tx 4]
INSERT INTO org.branch (township_code, name, display_name, kind, code, members) VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT (township_code, name) DO UPDATE SET display_name = EXCLUDED.display_name, kind = EXCLUDED.kind, code = EXCLUDED.code, members = EXCLUDED.members; -- args [350524111 zhongxin-xiaoxue 魁斗镇中心小学党支部 School <nil> 27]
-- dml row org.branch 350524111/weishengyuan [db region_anxi, tx 4]
INSERT INTO org.branch (township_code, name, display_name, kind, code, members) VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT (township_code, name) DO UPDATE SET display_name = EXCLUDED.display_name, kind = EXCLUDED.kind, code = EXCLUDED.code, members = EXCLUDED.members; -- args [350524111 weishengyuan 魁斗镇卫生院党支部 Other <nil> 11]
-- dml row org.branch 350524112/jiguan [db region_anxi, tx 4]
INSERT INTO org.branch (township_code, name, display_name, kind, code, members) VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT (township_code, name) DO UPDATE SET display_name = EXCLUDED.display_name, kind = EXCLUDED.kind, code = EXCLUDED.code, members = EXCLUDED.members; -- args [350524112 jiguan 西坪镇机关党支部 Organ <nil> 35]
-- dml row org.branch 350524112/zhongxin-xiaoxue [db region_anxi, tx 4]
INSERT INTO org.branch (township_code, name, display_name, kind, code, members) VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT (township_code, name) DO UPDATE SET display_name = EXCLUDED.display_name, kind = EXCLUDED.kind, code = EXCLUDED.code, members = EXCLUDED.members; -- args [350524112 zhongxin-xiaoxue 西坪镇中心小学党支部 School <nil> 12]
-- dml row org.branch 350524112/weishengyuan [db region_anxi, tx 4]
INSERT INTO org.branch (township_code, name, display_name, kind, code, members) VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT (township_code, name) DO UPDATE SET display_name = EXCLUDED.display_name, kind = EXCLUDED.kind, code = EXCLUDED.code, members = EXCLUDED.members; -- args [350524112 weishengyuan 西坪镇卫生院党支部 Other <nil> 14]
-- dml row org.branch 350524113/jiguan [db region_anxi, tx 4]
INSERT INTO org.branch (township_code, name, display_name, kind, code, members) VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT (township_code, name) DO UPDATE SET display_name = EXCLUDED.display_name, kind = EXCLUDED.kind, code = EXCLUDED.code, members = EXCLUDED.members; -- args [350524113 jiguan 参内镇机关党支部 Organ <nil> 42]
-- dml row org.branch 350524113/zhongxin-xiaoxue [db region_anxi, tx 4]
INSERT INTO org.branch (township_code, name, display_name, kind, code, members) VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT (township_code, name) DO UPDATE SET display_name = EXCLUDED.display_name, kind = EXCLUDED.kind, code = EXCLUDED.code, members = EXCLUDED.members; -- args [350524113 zhongxin-xiaoxue 参内镇中心小学党支部 School <nil> 17]
-- dml row org.branch 350524113/weishengyuan [db region_anxi, tx 4]
INSERT INTO org.branch (township_code, name, display_name, kind, code, members) VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT (township_code, name) DO UPDATE SET display_name = EXCLUDED.display_name, kind = EXCLUDED.kind, code = EXCLUDED.code, members = EXCLUDED.members; -- args [350524113 weishengyuan 参内镇卫生院党支部 Other <nil> 17]
-- dml row org.branch 350524114/jiguan [db region_anxi, tx 4]
INSERT INTO org.branch (township_code, name, display_name, kind, code, members) VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT (township_code, name) DO UPDATE SET display_name = EXCLUDED.display_name, kind = EXCLUDED.kind, code = EXCLUDED.code, members = EXCLUDED.members; -- args [350524114 jiguan 长卿镇机关党支部 Organ <nil> 49]
-- dml row org.branch 350524114/zhongxin-xiaoxue [db region_anxi, tx 4]
INSERT INTO org.branch (township_code, name, display_name, kind, code, members) VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT (township_code, name) DO UPDATE SET display_name = EXCLUDED.display_name, kind = EXCLUDED.kind, code = EXCLUDED.code, members = EXCLUDED.members; -- args [350524114 zhongxin-xiaoxue 长卿镇中心小学党支部 School <nil> 22]
-- dml row org.branch 350524114/weishengyuan [db region_anxi, tx 4]
INSERT INTO org.branch (township_code, name, display_name, kind, code, members) VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT (township_code, name) DO UPDATE SET display_name = EXCLUDED.display_name, kind = EXCLUDED.kind, code = EXCLUDED.code, members = EXCLUDED.members; -- args [350524114 weishengyuan 长卿镇卫生院党支部 Other <nil> 20]
-- dml row org.branch 350524201/jiguan [db region_anxi, tx 4]
INSERT INTO org.branch (township_code, name, display_name, kind, code, members) VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT (township_code, name) DO UPDATE SET display_name = EXCLUDED.display_name, kind = EXCLUDED.kind, code = EXCLUDED.code, members = EXCLUDED.members; -- args [350524201 jiguan 白濑乡机关党支部 Organ <nil> 56]
-- dml row org.branch 350524201/zhongxin-xiaoxue [db region_anxi, tx 4]
INSERT INTO org.branch (township_code, name, display_name, kind, code, members) VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT (township_code, name) DO UPDATE SET display_name = EXCLUDED.display_name, kind = EXCLUDED.kind, code = EXCLUDED.code, members = EXCLUDED.members; -- args [350524201 zhongxin-xiaoxue 白濑乡中心小学党支部 School <nil> 27]
-- dml row org.branch 350524201/weishengyuan [db region_anxi, tx 4]
INSERT INTO org.branch (township_code, name, display_name, kind, code, members) VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT (township_code, name) DO UPDATE SET display_name = EXCLUDED.display_name, kind = EXCLUDED.kind, code = EXCLUDED.code, members = EXCLUDED.members; -- args [350524201 weishengyuan 白濑乡卫生院党支部 Other <nil> 8]
-- dml row org.branch 350524202/jiguan [db region_anxi, tx 4]
INSERT INTO org.branch (township_code, name, display_name, kind, code, members) VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT (township_code, name) DO UPDATE SET display_name = EXCLUDED.display_name, kind = EXCLUDED.kind, code = EXCLUDED.code, members = EXCLUDED.members; -- args [350524202 jiguan 湖上乡机关党支部 Organ <nil> 63]
-- dml row org.branch 350524202/zhongxin-xiaoxue [db region_anxi, tx 4]
INSERT INTO org.branch (township_code, name, display_name, kind, code, members) VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT (township_code, name) DO UPDATE SET display_name = EXCLUDED.display_name, kind = EXCLUDED.kind, code = EXCLUDED.code, members = EXCLUDED.members; -- args [350524202 zhongxin-xiaoxue 湖上乡中心小学党支部 School <nil> 12]
-- dml row org.branch 350524202/weishengyuan [db region_anxi, tx 4]
INSERT INTO org.branch (township_code, name, display_name, kind, code, members) VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT (township_code, name) DO UPDATE SET display_name = EXCLUDED.display_name, kind = EXCLUDED.kind, code = EXCLUDED.code, members = EXCLUDED.members; -- args [350524202 weishengyuan 湖上乡卫生院党支部 Other <nil> 11]
-- dml row org.branch 350524203/jiguan [db region_anxi, tx 4]
INSERT INTO org.branch (township_code, name, display_name, kind, code, members) VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT (township_code, name) DO UPDATE SET display_name = EXCLUDED.display_name, kind = EXCLUDED.kind, code = EXCLUDED.code, members = EXCLUDED.members; -- args [350524203 jiguan 尚卿乡机关党支部 Organ <nil> 70]
-- dml row org.branch 350524203/zhongxin-xiaoxue [db region_anxi, tx 4]
INSERT INTO org.branch (township_code, name, display_name, kind, code, members) VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT (township_code, name) DO UPDATE SET display_name = EXCLUDED.display_name, kind = EXCLUDED.kind, code = EXCLUDED.code, members = EXCLUDED.members; -- args [350524203 zhongxin-xiaoxue 尚卿乡中心小学党支部 School <nil> 17]
-- dml row org.branch 350524203/weishengyuan [db region_anxi, tx 4]
INSERT INTO org.branch (township_code, name, display_name, kind, code, members) VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT (township_code, name) DO UPDATE SET display_name = EXCLUDED.display_name, kind = EXCLUDED.kind, code = EXCLUDED.code, members = EXCLUDED.members; -- args [350524203 weishengyuan 尚卿乡卫生院党支部 Other <nil> 14]
-- dml row org.branch 350524204/jiguan [db region_anxi, tx 4]
INSERT INTO org.branch (township_code, name, display_name, kind, code, members) VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT (township_code, name) DO UPDATE SET display_name = EXCLUDED.display_name, kind = EXCLUDED.kind, code = EXCLUDED.code, members = EXCLUDED.members; -- args [350524204 jiguan 大坪乡机关党支部 Organ <nil> 37]
-- dml row org.branch 350524204/zhongxin-xiaoxue [db region_anxi, tx 4]
INSERT INTO org.branch (township_code, name, display_name, kind, code, members) VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT (township_code, name) DO UPDATE SET display_name = EXCLUDED.display_name, kind = EXCLUDED.kind, code = EXCLUDED.code, members = EXCLUDED.members; -- args [350524204 zhongxin-xiaoxue 大坪乡中心小学党支部 School <nil> 22]
-- dml row org.branch 350524204/weishengyuan [db region_anxi, tx 4]
INSERT INTO org.branch (township_code, name, display_name, kind, code, members) VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT (township_code, name) DO UPDATE SET display_name = EXCLUDED.display_name, kind = EXCLUDED.kind, code = EXCLUDED.code, members = EXCLUDED.members; -- args [350524204 weishengyuan 大坪乡卫生院党支部 Other <nil> 17]
-- dml row org.branch 350524205/jiguan [db region_anxi, tx 4]
INSERT INTO org.branch (township_code, name, display_name, kind, code, members) VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT (township_code, name) DO UPDATE SET display_name = EXCLUDED.display_name, kind = EXCLUDED.kind, code = EXCLUDED.code, members = EXCLUDED.members; -- args [350524205 jiguan 龙涓乡机关党支部 Organ <nil> 44]
-- dml row org.branch 350524205/zhongxin-xiaoxue [db region_anxi, tx 4]
INSERT INTO org.branch (township_code, name, display_name, kind, code, members) VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT (township_code, name) DO UPDATE SET display_name = EXCLUDED.display_name, kind = EXCLUDED.kind, code = EXCLUDED.code, members = EXCLUDED.members; -- args [350524205 zhongxin-xiaoxue 龙涓乡中心小学党支部 School <nil> 27]
-- dml row org.branch 350524205/weishengyuan [db region_anxi, tx 4]
INSERT INTO org.branch (township_code, name, display_name, kind, code, members) VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT (township_code, name) DO UPDATE SET display_name = EXCLUDED.display_name, kind = EXCLUDED.kind, code = EXCLUDED.code, members = EXCLUDED.members; -- args [350524205 weishengyuan 龙涓乡卫生院党支部 Other <nil> 20]
-- dml row org.branch 350524207/jiguan [db region_anxi, tx 4]
INSERT INTO org.branch (township_code, name, display_name, kind, code, members) VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT (township_code, name) DO UPDATE SET display_name = EXCLUDED.display_name, kind = EXCLUDED.kind, code = EXCLUDED.code, members = EXCLUDED.members; -- args [350524207 jiguan 蓝田乡机关党支部 Organ <nil> 51]
-- dml row org.branch 350524207/zhongxin-xiaoxue [db region_anxi, tx 4]
INSERT INTO org.branch (township_code, name, display_name, kind, code, members) VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT (township_code, name) DO UPDATE SET display_name = EXCLUDED.display_name, kind = EXCLUDED.kind, code = EXCLUDED.code, members = EXCLUDED.members; -- args [350524207 zhongxin-xiaoxue 蓝田乡中心小学党支部 School <nil> 12]
-- dml row org.branch 350524207/weishengyuan [db region_anxi, tx 4]
INSERT INTO org.branch (township_code, name, display_name, kind, code, members) VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT (township_code, name) DO UPDATE SET display_name = EXCLUDED.display_name, kind = EXCLUDED.kind, code = EXCLUDED.code, members = EXCLUDED.members; -- args [350524207 weishengyuan 蓝田乡卫生院党支部 Other <nil> 8]
-- dml row org.branch 350524208/jiguan [db region_anxi, tx 4]
INSERT INTO org.branch (township_code, name, display_name, kind, code, members) VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT (township_code, name) DO UPDATE SET display_name = EXCLUDED.display_name, kind = EXCLUDED.kind, code = EXCLUDED.code, members = EXCLUDED.members; -- args [350524208 jiguan 祥华乡机关党支部 Organ <nil> 58]
-- dml row org.branch 350524208/zhongxin-xiaoxue [db region_anxi, tx 4]
INSERT INTO org.branch (township_code, name, display_name, kind, code, members) VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT (township_code, name) DO UPDATE SET display_name = EXCLUDED.display_name, kind = EXCLUDED.kind, code = EXCLUDED.code, members = EXCLUDED.members; -- args [350524208 zhongxin-xiaoxue 祥华乡中心小学党支部 School <nil> 17]
-- dml row org.branch 350524208/weishengyuan [db region_anxi, tx 4]
INSERT INTO org.branch (township_code, name, display_name, kind, code, members) VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT (township_code, name) DO UPDATE SET display_name = EXCLUDED.display_name, kind = EXCLUDED.kind, code = EXCLUDED.code, members = EXCLUDED.members; -- args [350524208 weishengyuan 祥华乡卫生院党支部 Other <nil> 11]
-- dml row org.branch 350524209/jiguan [db region_anxi, tx 4]
INSERT INTO org.branch (township_code, name, display_name, kind, code, members) VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT (township_code, name) DO UPDATE SET display_name = EXCLUDED.display_name, kind = EXCLUDED.kind, code = EXCLUDED.code, members = EXCLUDED.members; -- args [350524209 jiguan 桃舟乡机关党支部 Organ <nil> 65]
-- dml row org.branch 350524209/zhongxin-xiaoxue [db region_anxi, tx 4]
INSERT INTO org.branch (township_code, name, display_name, kind, code, members) VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT (township_code, name) DO UPDATE SET display_name = EXCLUDED.display_name, kind = EXCLUDED.kind, code = EXCLUDED.code, members = EXCLUDED.members; -- args [350524209 zhongxin-xiaoxue 桃舟乡中心小学党支部 School <nil> 22]
-- dml row org.branch 350524209/weishengyuan [db region_anxi, tx 4]
INSERT INTO org.branch (township_code, name, display_name, kind, code, members) VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT (township_code, name) DO UPDATE SET display_name = EXCLUDED.display_name, kind = EXCLUDED.kind, code = EXCLUDED.code, members = EXCLUDED.members; -- args [350524209 weishengyuan 桃舟乡卫生院党支部 Other <nil> 14]
-- dml row org.branch 350524210/jiguan [db region_anxi, tx 4]
INSERT INTO org.branch (township_code, name, display_name, kind, code, members) VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT (township_code, name) DO UPDATE SET display_name = EXCLUDED.display_name, kind = EXCLUDED.kind, code = EXCLUDED.code, members = EXCLUDED.members; -- args [350524210 jiguan 福田乡机关党支部 Organ <nil> 32]
-- dml row org.branch 350524210/zhongxin-xiaoxue [db region_anxi, tx 4]
INSERT INTO org.branch (township_code, name, display_name, kind, code, members) VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT (township_code, name) DO UPDATE SET display_name = EXCLUDED.display_name, kind = EXCLUDED.kind, code = EXCLUDED.code, members = EXCLUDED.members; -- args [350524210 zhongxin-xiaoxue 福田乡中心小学党支部 School <nil> 27]
-- dml row org.branch 350524210/weishengyuan [db region_anxi, tx 4]
INSERT INTO org.branch (township_code, name, display_name, kind, code, members) VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT (township_code, name) DO UPDATE SET display_name = EXCLUDED.display_name, kind = EXCLUDED.kind, code = EXCLUDED.code, members = EXCLUDED.members; -- args [350524210 weishengyuan 福田乡卫生院党支部 Other <nil> 17]
