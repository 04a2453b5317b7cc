package v1alpha1

import (
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// SecretKeyReference names a Secret holding a PostgreSQL administrator's login.
type SecretKeyReference struct {
	// Namespace of the Secret.
	// +kubebuilder:validation:MinLength=1
	// +kubebuilder:validation:MaxLength=63
	Namespace string `json:"namespace"`
	// Name of the Secret.
	// +kubebuilder:validation:MinLength=1
	// +kubebuilder:validation:MaxLength=253
	Name string `json:"name"`
	// UsernameKey is the key of the user name in the Secret.
	// +kubebuilder:default=username
	// +optional
	UsernameKey string `json:"usernameKey,omitempty"`
	// PasswordKey is the key of the password in the Secret.
	// +kubebuilder:default=password
	// +optional
	PasswordKey string `json:"passwordKey,omitempty"`
}

// SecretReference names a Secret in the operator's own namespace.
type SecretReference struct {
	// Namespace of the Secret: the operator's own.
	// +kubebuilder:validation:MinLength=1
	// +kubebuilder:validation:MaxLength=63
	Namespace string `json:"namespace"`
	// Name of the Secret.
	// +kubebuilder:validation:MinLength=1
	// +kubebuilder:validation:MaxLength=253
	Name string `json:"name"`
}

// DatabaseServerSpec says how to reach a PostgreSQL server the operator may provision on.
type DatabaseServerSpec struct {
	// Host name or address of the server.
	// +kubebuilder:validation:MinLength=1
	// +kubebuilder:validation:MaxLength=253
	Host string `json:"host"`
	// Port of the server.
	// +kubebuilder:default=5432
	// +kubebuilder:validation:Minimum=1
	// +kubebuilder:validation:Maximum=65535
	// +optional
	Port int32 `json:"port,omitempty"`
	// SSLMode is libpq's sslmode for the operator's connections and the credentials it
	// hands out.
	// The default is require: the administrator's password never goes to a server
	// that did not agree to TLS. disable must be set explicitly.
	// +kubebuilder:default=require
	// +kubebuilder:validation:Enum=disable;allow;prefer;require;verify-ca;verify-full
	// +optional
	SSLMode string `json:"sslMode,omitempty"`
	// AdminSecretRef is the login the operator provisions with: a superuser, or a role
	// with CREATEDB and CREATEROLE. The Secret must be in the operator's own namespace.
	AdminSecretRef SecretKeyReference `json:"adminSecretRef"`
	// CASecretRef names a Secret whose key ca.crt holds the PEM certificates of the
	// authority that signed the server's certificate (as cert-manager writes it). The
	// operator verifies the server with it (under require it then verifies the chain, as
	// libpq does), and every credential Secret carries it as ca.crt, so the services
	// verify the server too. Without it, verify-ca and verify-full use the system's
	// roots. The Secret must be in the operator's own namespace.
	// +optional
	CASecretRef *SecretReference `json:"caSecretRef,omitempty"`
	// ClientCertSecretRef names a kubernetes.io/tls Secret (keys tls.crt and tls.key)
	// whose certificate the operator presents to the server with its administrator
	// login, for servers that ask for one (pg_hba's clientcert). The Secret must be in
	// the operator's own namespace.
	// +optional
	ClientCertSecretRef *SecretReference `json:"clientCertSecretRef,omitempty"`
	// MaxConnections bounds the connections the operator itself holds to the server.
	// +kubebuilder:default=4
	// +kubebuilder:validation:Minimum=1
	// +kubebuilder:validation:Maximum=64
	// +optional
	MaxConnections int32 `json:"maxConnections,omitempty"`
}

// DatabaseServerStatus is what the operator last saw of the server.
type DatabaseServerStatus struct {
	// ObservedGeneration is the generation of the spec the status describes.
	// +optional
	ObservedGeneration int64 `json:"observedGeneration,omitempty"`
	// Conditions: Ready, Reconciling and Stalled.
	// +listType=map
	// +listMapKey=type
	// +optional
	Conditions []metav1.Condition `json:"conditions,omitempty"`
	// ServerVersion is the version the server reported.
	// +optional
	ServerVersion string `json:"serverVersion,omitempty"`
	// LastReachedTime is when the operator last reached the server.
	// +optional
	LastReachedTime *metav1.Time `json:"lastReachedTime,omitempty"`
}

// DatabaseServer is a PostgreSQL server on which Regions get their databases.
// +kubebuilder:object:root=true
// +kubebuilder:subresource:status
// +kubebuilder:resource:scope=Cluster,shortName=dbs,categories=jiceng
// +kubebuilder:printcolumn:name="Host",type=string,JSONPath=`.spec.host`
// +kubebuilder:printcolumn:name="Port",type=integer,JSONPath=`.spec.port`
// +kubebuilder:printcolumn:name="Version",type=string,JSONPath=`.status.serverVersion`
// +kubebuilder:printcolumn:name="Ready",type=string,JSONPath=`.status.conditions[?(@.type=="Ready")].status`
// +kubebuilder:printcolumn:name="Age",type=date,JSONPath=`.metadata.creationTimestamp`
type DatabaseServer struct {
	metav1.TypeMeta   `json:",inline"`
	metav1.ObjectMeta `json:"metadata,omitempty"`

	Spec   DatabaseServerSpec   `json:"spec"`
	Status DatabaseServerStatus `json:"status,omitempty"`
}

// DatabaseServerList is a list of DatabaseServers.
// +kubebuilder:object:root=true
type DatabaseServerList struct {
	metav1.TypeMeta `json:",inline"`
	metav1.ListMeta `json:"metadata,omitempty"`
	Items           []DatabaseServer `json:"items"`
}

func init() {
	register(&DatabaseServer{}, &DatabaseServerList{})
}
